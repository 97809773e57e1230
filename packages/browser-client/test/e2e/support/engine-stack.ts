/**
 * The stack and one browser engine for a describe block: started in its
 * beforeAll, closed in its afterAll (the browser first, its Service Workers
 * unregistered). The getters read them once started.
 */
import { launchEngine, type EngineName, type LaunchedEngine } from '../helpers/engines';
import type { AnyPage } from './shell';
import { startStackWith, type Stack, type StackOptions } from './stack';

export function useStackAndEngine(engine: EngineName, options?: StackOptions): { readonly stack: Stack; readonly page: AnyPage } {
  let stack: Stack | undefined;
  let browser: LaunchedEngine | undefined;
  beforeAll(async () => {
    [stack, browser] = await startStackWith(() => launchEngine(engine), options);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });
  const started = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} has not started (beforeAll failed?)`);
    return v;
  };
  return {
    get stack() {
      return started(stack, 'the stack');
    },
    get page() {
      return started(browser, 'the browser').page;
    },
  };
}
