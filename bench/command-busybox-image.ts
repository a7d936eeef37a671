// Builds a tiny local container image from Debian's busybox-static (no registry needed): the
// container tests and the launch benchmark run it with `--pull never`.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile, copyFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const BUSYBOX_IMAGE = 'localhost/pacer-busybox:latest';

/** Imports `image` into the engine's local store unless it is there; returns its name. */
export async function ensureBusyboxImage(
  options: { engine?: 'podman' | 'docker'; image?: string; busybox?: string } = {},
): Promise<string> {
  const engine = options.engine ?? 'podman';
  const image = options.image ?? BUSYBOX_IMAGE;
  const exists = await run(engine, ['image', 'inspect', '--format', '{{.Id}}', image]).then(
    () => true,
    () => false,
  );
  if (exists) return image;
  const busybox = options.busybox ?? '/bin/busybox';
  const dir = await mkdtemp(path.join(tmpdir(), 'pacer-busybox-'));
  try {
    const rootfs = path.join(dir, 'rootfs');
    for (const sub of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root']) {
      await mkdir(path.join(rootfs, sub), { recursive: true });
    }
    await chmod(path.join(rootfs, 'tmp'), 0o1777);
    await copyFile(busybox, path.join(rootfs, 'bin', 'busybox'));
    await chmod(path.join(rootfs, 'bin', 'busybox'), 0o755);
    const { stdout } = await run(busybox, ['--list']);
    for (const applet of stdout.split('\n').filter((name) => name && name !== 'busybox')) {
      await symlink('busybox', path.join(rootfs, 'bin', applet));
    }
    await writeFile(
      path.join(rootfs, 'etc', 'passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
    );
    await writeFile(path.join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
    const tarball = path.join(dir, 'rootfs.tar');
    await run('tar', ['-C', rootfs, '-cf', tarball, '.']);
    await run(engine, ['import', '--change', 'CMD ["/bin/sh"]', tarball, image]);
    return image;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
