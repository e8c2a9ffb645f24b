"""What jetbench's Python helpers share (jetbench_tvm.py, jetbench_torch.py): JSON-line events on
stdout, typed errors, the serve loop and the command-line entry. The agent runs each helper as a
script; this module sits beside them (dist/python/) and is imported from there."""
import json
import sys
import traceback


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class HelperError(Exception):
    """A failure the agent turns into a typed error (kind: no-tvm, no-torch, no-cuda, unsupported-op, ...)."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def serve_loop(session, extra=None):
    """Answers one line per stdin command: "i" one timed inference -> "<ms>"; "o <dir>" the outputs
    written as files -> JSON list; "f <dir>" the same on inputs read from that directory (sessions
    with set_inputs); `extra` maps other commands to functions returning JSON."""
    extra = extra or {}
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "i":
            sys.stdout.write("%.6f\n" % session.infer_ms())
            sys.stdout.flush()
        elif cmd.startswith("o "):
            emit(session.write_outputs(cmd[2:]))
        elif cmd.startswith("f "):
            # Inputs of its own (real frames): DIR/input<k>.bin, float32, each of its input's shape,
            # copied into the session's inputs in place; then the outputs, as "o".
            if not hasattr(session, "set_inputs"):
                raise HelperError("protocol", "this helper cannot take inputs of its own")
            session.set_inputs(cmd[2:])
            emit(session.write_outputs(cmd[2:]))
        elif cmd in extra:
            emit(extra[cmd]())
        elif cmd == "":
            continue
        else:
            raise HelperError("protocol", f"unknown serve command {cmd!r}")


def run(argv, commands, script):
    """The helper's entry: `script COMMAND [JSON]`; errors become an error event and the exit code."""
    if len(argv) < 2 or argv[1] not in commands:
        emit({"event": "error", "kind": "usage", "message": f"usage: {script} {'|'.join(commands)} [JSON]"})
        return 2
    spec = json.loads(argv[2]) if len(argv) > 2 else {}
    try:
        commands[argv[1]](spec)
        return 0
    except HelperError as e:
        emit({"event": "error", "kind": e.kind, "message": str(e)})
        return 1
    except KeyboardInterrupt:
        emit({"event": "error", "kind": "cancelled", "message": "cancelled"})
        return 130
    except Exception as e:  # noqa: BLE001 - reported to the agent with its traceback on stderr
        traceback.print_exc(file=sys.stderr)
        emit({"event": "error", "kind": "internal", "message": f"{type(e).__name__}: {e}"})
        return 1
