/**
 * Stock Django 4 as the developer's app: a project made by `django-admin
 * startproject`, migrated, with a superuser created non-interactively, served
 * by `manage.py runserver` on 127.0.0.1. Settings are left as generated
 * (X_FRAME_OPTIONS, and CSRF's Origin check, which Django has made since 4.0).
 * Django 4.2 is Debian 13's `python3-django`, unpacked by
 * scripts/debian-django4.sh into DJANGO4_DIR (Debian 12's is 3.2, which
 * ignores Origin); a system Django >= 4 serves as well.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../../../../test/helpers/redis';
import { DEBIAN_PYTHON, startPythonServer, type PythonServer } from './python-server';

/** Debian's python3, which has python3-django (a pyenv or venv python on PATH may not). */
export const DJANGO_PYTHON = DEBIAN_PYTHON;

/** Where scripts/debian-django4.sh unpacks Debian 13's Django 4.2 (same default there). */
export const DJANGO4_DIR = process.env.WINGMAN_DJANGO4_DIR ?? '/opt/wingman-test/django-4.2';

/** Django 4 first on the path: the unpacked one, else the system's. */
const DJANGO_ENV = { PYTHONPATH: DJANGO4_DIR };

/** startproject + migrate + createsuperuser take ~5–10 s here; 120 s covers a loaded CI machine. */
const DJANGO_SETUP_TIMEOUT_MS = 120_000;

/** runserver listens within ~1–2 s. */
const DJANGO_LISTEN_TIMEOUT_MS = 30_000;

export const DJANGO_ADMIN_USER = 'admin';
export const DJANGO_ADMIN_PASSWORD = 'wingman-test-password';

export interface DjangoApp extends PythonServer {
  /** The reason of the last request Django refused (runserver's "Forbidden (<reason>): <path>" line), if any. */
  forbiddenReason(): string | undefined;
}

const run = promisify(execFile);

export async function startDjango(): Promise<DjangoApp> {
  const dir = mkdtempSync(join(tmpdir(), 'wingman-django-'));
  const env = { ...process.env, ...DJANGO_ENV, PYTHONDONTWRITEBYTECODE: '1', DJANGO_SUPERUSER_PASSWORD: DJANGO_ADMIN_PASSWORD };
  const inProject = { cwd: dir, env, timeout: DJANGO_SETUP_TIMEOUT_MS };
  try {
    const { stdout } = await run(DJANGO_PYTHON, ['-c', 'import django; print(django.VERSION[0])'], inProject);
    if (Number(stdout.trim()) < 4) throw new Error(`Django ${stdout.trim()}.x found, 4 or newer needed`);
    await run(DJANGO_PYTHON, ['-m', 'django', 'startproject', 'mysite', '.'], inProject);
    await run(DJANGO_PYTHON, ['manage.py', 'migrate', '--noinput'], inProject);
    await run(DJANGO_PYTHON, ['manage.py', 'createsuperuser', '--noinput', '--username', DJANGO_ADMIN_USER, '--email', 'admin@example.test'], inProject);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as { message: string; stderr?: string };
    throw new Error(
      `could not set up a Django 4 project with ${DJANGO_PYTHON} (apt-get install python3-django, then as root scripts/debian-django4.sh for Debian 13's Django 4.2 in ${DJANGO4_DIR}): ${e.message}`,
    );
  }
  const port = await freePort();
  const server = await startPythonServer({
    dir,
    port,
    args: [join(dir, 'manage.py'), 'runserver', `127.0.0.1:${port}`, '--noreload'],
    env: { ...DJANGO_ENV, DJANGO_SUPERUSER_PASSWORD: DJANGO_ADMIN_PASSWORD },
    ready: /Quit the server with/,
    timeoutMs: DJANGO_LISTEN_TIMEOUT_MS,
    hint: "install Debian's Django: apt-get install python3-django",
  });
  return {
    ...server,
    forbiddenReason: () =>
      server.server
        .stderr()
        .split('\n')
        .filter((line) => /Forbidden \(/.test(line))
        .at(-1),
  };
}
