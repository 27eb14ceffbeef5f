"""``rnnkit <command>``: the command line.

:func:`main` sends ``rnnkit serve`` and each command that uses an export folder (``rnnkit
generate|predict|forecast|transcribe EXPORT``) to :mod:`rnnkit.cli.exports`, which imports no
torch (serving a run folder loads it); every other command goes to
:mod:`rnnkit.cli.commands`, the parser of training and run folders. Both build the shared
commands' flags from :mod:`rnnkit.cli.flags`, and both print through :mod:`rnnkit.cli.using`.
Errors print here, once, as one line.
"""

from __future__ import annotations

import os
import sys

from rnnkit.cli import exports
from rnnkit.errors import RnnkitError


def _parser():
    """The full parser (tests read its defaults)."""
    from rnnkit.cli.commands import _parser as full_parser

    return full_parser()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if exports.wants(argv):
            return exports.run(argv)
        from rnnkit.cli import commands  # torch and the tasks load here, not for an export

        return commands.run(argv)
    except (RnnkitError, ValueError) as error:
        # Configs name their fields; the command line names the flags.
        message = error.as_flag() if hasattr(error, "as_flag") else str(error)
        print(f"rnnkit: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnnkit: aborted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as error:
        if error.filename is None:
            raise  # not about a path the user gave: a real fault, with its traceback
        # A path the readers do not check themselves (a run folder, --out): too long for the
        # file system, not allowed, on a full disk. One line that names it.
        name = str(error.filename)
        shown = name if len(name) <= 80 else name[:77] + "..."
        print(f"rnnkit: error: {shown}: {error.strerror or error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
