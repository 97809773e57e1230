/**
 * A WebKit browser (helpers/webkit.ts), alone or with the whole stack
 * (support/stack.ts), for one describe block: started in beforeAll, stopped
 * in afterAll; and the wait for the app's document in the shell's frame.
 */
import { until } from '../../../../../test/helpers/wait';
import { launchWebKit, type LaunchedWebKit, type WebKitFrame, type WebKitPage } from '../helpers/webkit';
import { inPage, WAIT_MS } from './shell';
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

/**
 * Waits until the shell in `page` has its app frame with the app's document loaded, and returns it. Not the
 * frame's initial about:blank: a script there reads no app location (`ws://${location.host}/echo` names the host
 * `echo`, and the socket fails with 1006).
 */
export function shellAppFrame(page: WebKitPage): Promise<WebKitFrame> {
  let shown = '(no frame)';
  return until(
    async () => {
      await page.refresh();
      const frame = page.mainFrame().childFrames()[0];
      if (!frame) return undefined;
      shown = await inPage(frame, () => `${location.href} ${document.readyState}`, undefined).catch((e: Error) => `(unreadable: ${e.message.split('\n')[0]})`);
      return /^https?:\S+ complete$/.test(shown) ? frame : undefined;
    },
    { timeoutMs: WAIT_MS, intervalMs: 50, what: "the shell's app frame with the app loaded", observe: () => `shell at ${page.url()}, frame ${shown}` },
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
