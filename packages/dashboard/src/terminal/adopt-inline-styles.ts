/**
 * xterm.js writes its theme and cell sizes into <style> elements it creates
 * at run time; the daemon's CSP (style-src 'self') makes the browser ignore
 * those. A constructable stylesheet is not inline markup and is allowed, so
 * each such element's text is mirrored into one, kept in step as xterm
 * rewrites it, and dropped when the terminal goes.
 */
export function adoptInlineStyles(root: HTMLElement): () => void {
  const sheets = new Map<HTMLStyleElement, CSSStyleSheet>();
  const sync = () => {
    for (const element of root.querySelectorAll('style')) {
      let sheet = sheets.get(element);
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheets.set(element, sheet);
        document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
      }
      sheet.replaceSync(element.textContent ?? '');
    }
    for (const [element, sheet] of sheets) {
      if (root.contains(element)) continue;
      sheets.delete(element);
      document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== sheet);
    }
  };
  const observer = new MutationObserver(sync);
  observer.observe(root, { subtree: true, childList: true, characterData: true });
  sync();
  return () => {
    observer.disconnect();
    const gone = new Set(sheets.values());
    document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => !gone.has(s));
  };
}
