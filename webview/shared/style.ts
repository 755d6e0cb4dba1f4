import css from './theme.css';

/** Injects a stylesheet as a <style> element carrying the page's CSP nonce (taken from our own script tag). */
export function injectStyle(extra = ''): void {
  const nonce = (document.querySelector('script[nonce]') as HTMLScriptElement | null)?.nonce ?? '';
  const style = document.createElement('style');
  style.nonce = nonce;
  style.textContent = css + extra;
  document.head.append(style);
}
