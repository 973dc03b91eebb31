// The build aliases this to 'web-vitals' (rum.js) or 'web-vitals/attribution'
// (rum.attribution.js); the attribution types are a superset of the standard ones.
declare module 'rum-web-vitals' {
  export * from 'web-vitals/attribution';
}
