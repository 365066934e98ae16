/** The first file descriptor systemd passes (SD_LISTEN_FDS_START in sd-daemon.h). */
const FIRST_FD = 3;

/**
 * The listening sockets systemd passed to this process (sd_listen_fds(3), socket activation):
 * LISTEN_FDS sockets from fd 3 on, meant for us only when LISTEN_PID is our pid (a child that
 * inherited the environment must not take them). Null when the daemon was not socket-activated.
 * The variables are removed, as sd_listen_fds(unset_environment=1) does, so processes we start
 * (the config check) never see them.
 */
export function takeActivatedSockets(env: NodeJS.ProcessEnv, pid: number): number[] | null {
  const count = Number(env.LISTEN_FDS ?? '');
  const forUs = Number(env.LISTEN_PID ?? '') === pid;
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  if (!forUs || !Number.isInteger(count) || count <= 0) return null;
  return Array.from({ length: count }, (_, i) => FIRST_FD + i);
}
