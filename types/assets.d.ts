// Text assets loaded by the build (esbuild `text` loader) and by tsx in tests (see scripts/wgsl-loader).
declare module '*.wgsl' {
  const source: string;
  export default source;
}
