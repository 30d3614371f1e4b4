"""Files that are written whole or not at all, and read only once they open: the file
handling under `xpnet.save` / `xpnet.load` and the word2vec formats.

- `write_atomic` writes through a temporary sibling file, flushed and synced, then
  `os.replace` (atomic within one filesystem, on POSIX and Windows): a save that fails or is
  killed leaves any earlier file whole.
- `readable_file` is the one check of the loaders, made before any work starts.
- Errors keep the user's path (not a temporary file's) and name the call.
"""

from __future__ import annotations

import errno
import os
import secrets

__all__ = ["readable_file", "temporary_name", "with_path", "write_atomic"]


def with_path(e, path, op):
    """The same OSError subclass, naming ``path`` (not a temporary file) and the function."""
    return type(e)(e.errno, f"{op}: {e.strerror}", path)


def readable_file(op, path, param="path"):
    """``path`` as a str once it names a file that opens for reading; otherwise the
    FileNotFoundError, IsADirectoryError or PermissionError of opening it, naming ``op`` and
    keeping ``path`` as the error's ``filename``.

    The one check of the loaders of `xpnet.io` and `xpnet.word2vec`, made before any work starts.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"{op}: {param} must be a path (str or os.PathLike), got "
                        f"{type(path).__name__}")
    path = os.fsdecode(os.fspath(path))
    if os.path.isdir(path):  # Windows' open() says PermissionError for a folder
        raise IsADirectoryError(errno.EISDIR, f"{op}: {os.strerror(errno.EISDIR)}", path)
    try:
        open(path, "rb").close()
    except OSError as e:
        raise with_path(e, path, op) from None
    return path


# -- temporary files of atomic writes --------------------------------------------------------------
# ".{target}.xpnet-tmp-{host}-{pid}-{random}": a save killed with SIGKILL cannot remove its
# temporary file, so the next save of the same target removes those whose writer is dead. The
# host token (host name and pid namespace) keeps a save from judging pids of another machine or
# container sharing the folder (NFS, bind mounts), whose writers it cannot see.

_TEMPORARY_MARK = ".xpnet-tmp-"
_host_token_cache = []


def _host_token():
    if not _host_token_cache:
        import hashlib
        import socket
        try:
            namespace = os.readlink("/proc/self/ns/pid")
        except OSError:
            namespace = ""
        seed = f"{socket.gethostname()}|{namespace}".encode()
        _host_token_cache.append(hashlib.blake2s(seed, digest_size=4).hexdigest())
    return _host_token_cache[0]


def _temporary_prefix(path):
    directory, base = os.path.split(os.path.abspath(path))
    # Cut a long name so that the temporary name stays within 255 bytes.
    return os.path.join(directory, f".{base[:150]}{_TEMPORARY_MARK}{_host_token()}-")


def temporary_name(path, pid=None):
    """A fresh temporary name for writing ``path`` from process ``pid`` (default: this one)."""
    pid = os.getpid() if pid is None else pid
    return f"{_temporary_prefix(path)}{pid}-{secrets.token_hex(4)}"


def _process_alive(pid):
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists (another user's); anything else: keep the file
        return True
    return True


def _remove_dead_writers_files(path):
    """Remove temporary files of ``path`` left by saves whose process has died (killed before
    it could clean up). Files of live processes, other targets, other hosts and unparsable
    names stay; any error leaves the file."""
    if os.name != "posix":  # on Windows os.kill(pid, 0) would terminate the process
        return
    prefix = _temporary_prefix(path)
    directory, start = os.path.split(prefix)
    try:
        entries = os.scandir(directory)
    except OSError:
        return
    with entries:
        for entry in entries:
            if not entry.name.startswith(start):
                continue
            pid, _, rest = entry.name[len(start):].partition("-")
            if not (pid.isascii() and pid.isdigit() and rest):
                continue
            try:
                if not entry.is_file(follow_symlinks=False) or _process_alive(int(pid)):
                    continue
                os.unlink(entry.path)
            except OSError:
                continue


def write_atomic(path, payload):
    """Write ``payload`` to ``path`` through a temporary sibling file and `os.replace`.

    The temporary file is named by `temporary_name`; temporary files of this path whose
    writer process has died are removed first.
    """
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"save: {os.strerror(errno.EISDIR)}", path)
    directory = os.path.dirname(os.path.abspath(path))
    _remove_dead_writers_files(path)
    # O_EXCL with a random name instead of tempfile.mkstemp: mkstemp makes the file 0600, while
    # os.open(..., 0o666) honours the umask as an ordinary open() would.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = temporary_name(path)
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
        except OSError as e:  # no folder, no permission, a read-only filesystem...
            raise with_path(e, path, "save") from None
    else:
        raise FileExistsError(f"save: could not create a temporary file in {directory}")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic within one filesystem, on POSIX and Windows
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        except OSError:  # some filesystems refuse fsync on directories; the data is safe anyway
            pass
        finally:
            os.close(dir_fd)
