import { Component, type ReactNode } from 'react';

interface State {
  error: Error | null;
}

/**
 * A view that throws (an answer of a shape it did not expect) shows what went
 * wrong in its place; the header, navigation and other views keep working.
 * Keyed by route by its parent, so moving to another view starts afresh.
 */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <section role="alert" className="error">
        <h1>This view failed</h1>
        <p>{this.state.error.message}</p>
        <button type="button" onClick={() => this.setState({ error: null })}>
          Try again
        </button>
      </section>
    );
  }
}
