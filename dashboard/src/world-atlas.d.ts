// world-atlas ships TopoJSON files without type declarations.
declare module 'world-atlas/countries-110m.json' {
  const topology: unknown;
  export default topology;
}
