/** Node entry of @wingman/browser-client (the browser bundles are built separately by build.mjs). */
export * from './server';
