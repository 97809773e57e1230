/**
 * A WebKit browser (helpers/webkit.ts), alone or with the whole stack
 * (support/stack.ts), for one describe block: started in beforeAll, stopped
 * in afterAll; and the wait for the shell's app frame in it.
 */
import { until } from '../../../../../test/helpers/wait';
import { launchWebKit, type LaunchedWebKit, type WebKitFrame, type WebKitPage } from '../helpers/webkit';
import { WAIT_MS } from './shell';
import { startStack, type Stack, type StackOptions } from './stack';

/** Call inside a describe(); read `webkit` in its tests (set once beforeAll ran). */
export function useWebKit(): { readonly webkit: LaunchedWebKit } {
  let webkit: LaunchedWebKit | undefined;
  beforeAll(async () => {
    webkit = await launchWebKit();
  });
  afterAll(async () => {
    await webkit?.close();
  });
  return {
    get webkit() {
      if (!webkit) throw new Error('WebKit is not started (beforeAll failed)');
      return webkit;
    },
  };
}

/** Waits until the shell in `page` has its app frame, and returns it (whatever document it shows). */
export function shellAppFrame(page: WebKitPage): Promise<WebKitFrame> {
  return until(
    async () => {
      await page.refresh();
      return page.mainFrame().childFrames()[0];
    },
    { timeoutMs: WAIT_MS, intervalMs: 50, what: 'the shell’s app frame', observe: () => page.url() },
  );
}

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
