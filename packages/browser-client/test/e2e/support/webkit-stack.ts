/**
 * The whole stack (support/stack.ts) and a WebKit browser (helpers/webkit.ts)
 * for one describe block: started in beforeAll, stopped in afterAll.
 */
import { launchWebKit, type LaunchedWebKit } from '../helpers/webkit';
import { startStack, type Stack, type StackOptions } from './stack';

export interface StackWithWebKit {
  readonly stack: Stack;
  readonly webkit: LaunchedWebKit;
}

/** Call inside a describe(); read the fields in its tests (they are set once beforeAll ran). */
export function useStackWithWebKit(options?: StackOptions): StackWithWebKit {
  let stack: Stack | undefined;
  let webkit: LaunchedWebKit | undefined;
  beforeAll(async () => {
    stack = await startStack(options);
    webkit = await launchWebKit();
  });
  afterAll(async () => {
    await webkit?.close();
    await stack?.close();
  });
  return {
    get stack() {
      if (!stack) throw new Error('the stack is not started (beforeAll failed)');
      return stack;
    },
    get webkit() {
      if (!webkit) throw new Error('WebKit is not started (beforeAll failed)');
      return webkit;
    },
  };
}
