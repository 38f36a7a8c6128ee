"""Executes a notebook headlessly; exits non-zero, with the failing cell's traceback, if any
cell raises.

    python notebooks/run_notebook.py notebooks/backtest.ipynb [--output executed.ipynb]
        [--figures DIR] [--timeout SECONDS]

The kernel is this interpreter (`sys.executable`, so the venv that runs this script), whatever
kernelspecs are installed elsewhere. Cells run with the notebook's directory as the working
directory, as in Jupyter. Environment variables (BENGLEMA_OUT...) pass through to the kernel.
`--figures DIR` writes every PNG the notebook displays as DIR/cell-NN-M.png.
"""

import argparse
import base64
import json
import os
import sys
import tempfile
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebook", type=Path)
    ap.add_argument("--output", type=Path, help="write the executed notebook here")
    ap.add_argument("--figures", type=Path, help="write displayed PNGs into this directory")
    ap.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds")
    args = ap.parse_args()

    # A kernelspec that names this interpreter, found before any user or system "python3".
    specs = tempfile.TemporaryDirectory(prefix="benglema-kernel-")
    kdir = Path(specs.name) / "kernels" / "benglema-python"
    kdir.mkdir(parents=True)
    (kdir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "benglema (venv)",
                "language": "python",
            }
        )
    )
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [specs.name, *filter(None, [os.environ.get("JUPYTER_PATH")])]
    )
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(args.notebook, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="benglema-python",
        timeout=args.timeout,
        allow_errors=False,
        resources={"metadata": {"path": str(args.notebook.resolve().parent)}},
    )
    failed = None
    try:
        client.execute()
    except CellExecutionError as e:
        failed = str(e)
    except (CellTimeoutError, DeadKernelError) as e:
        failed = f"{type(e).__name__}: {e}"
    except Exception as e:  # the kernel did not start, the notebook is not valid...
        failed = f"{type(e).__name__}: {e}"
    finally:
        if args.output:
            nbformat.write(nb, args.output)
        specs.cleanup()

    # Warnings and prints go to stdout, so a CI log shows what the notebook said.
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                sys.stdout.write(f"[cell {i} stderr] {out.get('text', '')}")
    if args.figures:
        args.figures.mkdir(parents=True, exist_ok=True)
        n = 0
        for i, cell in enumerate(nb.cells):
            pngs = [o["data"]["image/png"] for o in cell.get("outputs", [])
                    if "image/png" in o.get("data", {})]
            for j, png in enumerate(pngs):
                (args.figures / f"cell-{i:02d}-{j}.png").write_bytes(base64.b64decode(png))
                n += 1
        print(f"{n} figures in {args.figures}")

    if failed is not None:
        print(f"notebook {args.notebook} failed:\n{failed}", file=sys.stderr)
        return 1
    executed = sum(1 for c in nb.cells if c.cell_type == "code")
    print(f"notebook {args.notebook}: {executed} code cells ran without error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
