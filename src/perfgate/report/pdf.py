"""``report.pdf``: the HTML report printed by headless Chromium (``--pdf``).

Chromium runs offline on the local file (no network: background networking off), with a
virtual time budget so the charts finish drawing before the page is printed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PdfError", "find_chromium", "print_pdf"]

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class PdfError(Exception):
    """No browser, or the browser failed to print."""


def find_chromium() -> str | None:
    explicit = os.environ.get("PERFGATE_CHROMIUM")
    if explicit:
        return explicit
    return next((p for c in CANDIDATES if (p := shutil.which(c))), None)


def chromium_args(browser: str, profile: str) -> list[str]:
    args = [browser, "--headless", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-default-apps", "--disable-extensions",
            "--disable-sync", "--no-first-run", "--no-default-browser-check",
            "--metrics-recording-only", "--mute-audio", f"--user-data-dir={profile}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    return args


def print_pdf(html: Path, pdf: Path, timeout_s: float = 120.0) -> Path:
    browser = find_chromium()
    if browser is None:
        raise PdfError("no Chromium found (apt-get install chromium, or set PERFGATE_CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="perfgate-chromium-") as profile:
        argv = [*chromium_args(browser, profile), "--virtual-time-budget=15000",
                "--run-all-compositor-stages-before-draw", "--no-pdf-header-footer",
                f"--print-to-pdf={pdf}", html.resolve().as_uri()]
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfError(f"{browser}: {exc}") from exc
    if proc.returncode != 0 or not pdf.is_file():
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise PdfError(f"{browser} exit code {proc.returncode}: {tail[0]}")
    return pdf
