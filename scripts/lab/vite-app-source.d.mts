/** Types of vite-app-source.mjs, for the TypeScript tests. */
export declare function componentText(i: number, version: number): string;
export declare function writeViteApp(
  dir: string,
  nodeModules: string,
): { modules: number; hmr: { file: string; selector: string; text: (version: number) => string; source: (version: number) => string } };
