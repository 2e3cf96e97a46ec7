export type Theme = 'system' | 'light' | 'dark';

const key = 'paddock.theme';

export function savedTheme(): Theme {
  const value = window.localStorage.getItem(key);
  return value === 'light' || value === 'dark' ? value : 'system';
}

/** Sets the theme on <html>: 'system' follows prefers-color-scheme (the stylesheet's media query). */
export function applyTheme(theme: Theme): void {
  if (theme === 'system') {
    delete document.documentElement.dataset.theme;
    window.localStorage.removeItem(key);
  } else {
    document.documentElement.dataset.theme = theme;
    window.localStorage.setItem(key, theme);
  }
}
