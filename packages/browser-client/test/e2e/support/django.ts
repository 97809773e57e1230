/**
 * Stock Django (Debian `python3-django`) as the developer's app: a project
 * made by `django-admin startproject`, migrated, with a superuser created
 * non-interactively, served by `manage.py runserver` on 127.0.0.1. Settings
 * are left as generated (X_FRAME_OPTIONS included).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startCommand, type Proc } from '../../../../../test/helpers/processes';
import { freePort } from '../../../../../test/helpers/redis';

/** Debian's python3, which has python3-django (a pyenv or venv python on PATH may not). */
export const DJANGO_PYTHON = '/usr/bin/python3';

/** startproject + migrate + createsuperuser take ~5–10 s here; 120 s covers a loaded CI machine. */
const DJANGO_SETUP_TIMEOUT_MS = 120_000;

/** runserver listens within ~1–2 s. */
const DJANGO_LISTEN_TIMEOUT_MS = 30_000;

export const DJANGO_ADMIN_USER = 'admin';
export const DJANGO_ADMIN_PASSWORD = 'wingman-test-password';

export interface DjangoApp {
  port: number;
  server: Proc;
  close(): Promise<void>;
}

const run = promisify(execFile);

export async function startDjango(): Promise<DjangoApp> {
  const dir = mkdtempSync(join(tmpdir(), 'wingman-django-'));
  const env = { ...process.env, DJANGO_SUPERUSER_PASSWORD: DJANGO_ADMIN_PASSWORD, PYTHONDONTWRITEBYTECODE: '1' };
  const inProject = { cwd: dir, env, timeout: DJANGO_SETUP_TIMEOUT_MS };
  try {
    await run(DJANGO_PYTHON, ['-m', 'django', 'startproject', 'mysite', '.'], inProject);
    await run(DJANGO_PYTHON, ['manage.py', 'migrate', '--noinput'], inProject);
    await run(DJANGO_PYTHON, ['manage.py', 'createsuperuser', '--noinput', '--username', DJANGO_ADMIN_USER, '--email', 'admin@example.test'], inProject);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as { message: string; stderr?: string };
    throw new Error(`could not set up a Django project with ${DJANGO_PYTHON} (install Debian's Django: apt-get install python3-django): ${e.message}`);
  }
  const port = await freePort();
  const server = startCommand(DJANGO_PYTHON, [join(dir, 'manage.py'), 'runserver', `127.0.0.1:${port}`, '--noreload'], {
    DJANGO_SUPERUSER_PASSWORD: DJANGO_ADMIN_PASSWORD,
  });
  try {
    await server.waitForLine(/Quit the server with/, { timeoutMs: DJANGO_LISTEN_TIMEOUT_MS, stream: 'both' });
  } catch (err) {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    server,
    async close() {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
