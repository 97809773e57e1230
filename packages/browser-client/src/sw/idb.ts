/**
 * A one-store key-value wrapper over IndexedDB for the Service Worker's durable state (the cookie jar): a SW
 * stopped when idle loses its globals, IndexedDB survives. Every operation has a timeout, after which the
 * caller carries on without persistence rather than hang a request.
 */

/** Bound on one IndexedDB operation, ms. Normal ones take < 5 ms; a blocked upgrade or a wedged disk must not hold requests. */
const IDB_TIMEOUT_MS = 2_000;

const DB_NAME = 'wingman';
const STORE = 'kv';

export type KvStore = ReturnType<typeof createKvStore>;

/** `p`, or a rejection once it took over `ms` (`what` names it in the error). */
export function withTimeout<T>(p: Promise<T>, what: string, ms = IDB_TIMEOUT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

export function createKvStore(idb: IDBFactory | undefined = self.indexedDB) {
  let db: Promise<IDBDatabase> | undefined;
  const open = (): Promise<IDBDatabase> => {
    if (!idb) return Promise.reject(new Error('IndexedDB is not available'));
    db ??= withTimeout(
      new Promise<IDBDatabase>((resolve, reject) => {
        const r = idb.open(DB_NAME, 1);
        r.onupgradeneeded = () => r.result.createObjectStore(STORE);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error ?? new Error('IndexedDB open failed'));
        r.onblocked = () => reject(new Error('IndexedDB open blocked'));
      }),
      'IndexedDB open',
    ).catch((err: Error) => {
      db = undefined; // try again next time
      throw err;
    });
    return db;
  };
  return {
    async get<T>(key: string): Promise<T | undefined> {
      const d = await open();
      return withTimeout(request(d.transaction(STORE, 'readonly').objectStore(STORE).get(key)) as Promise<T | undefined>, 'IndexedDB get');
    },
    async put(key: string, value: unknown): Promise<void> {
      const d = await open();
      await withTimeout(request(d.transaction(STORE, 'readwrite').objectStore(STORE).put(value, key)), 'IndexedDB put');
    },
  };
}
