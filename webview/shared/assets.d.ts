// Stylesheets bundled into the webview scripts as text (esbuild `text` loader) and injected with the CSP nonce.
declare module '*.css' {
  const css: string;
  export default css;
}
