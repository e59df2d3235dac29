"""``gdviz serve``: run the app with uvicorn (the default command)."""

from __future__ import annotations

import sys
import threading
import webbrowser


def serve(host: str, port: int, open_browser: bool, workers: int = 1) -> int:
    """Run the app with uvicorn until interrupted."""
    import uvicorn

    if workers < 1:
        print("gdviz: --workers must be at least 1", file=sys.stderr)
        return 2
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: serving on {host}: other machines on the network can reach gdviz",
            file=sys.stderr,
        )
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    print(f"gdviz: open {url}")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    # Each worker builds its own app; every session lives in one connection, so any
    # worker can hold it, and the saved model and data cache are shared files.
    uvicorn.run(
        "app.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ws="websockets-sansio",
        ws_per_message_deflate=False,  # compression costs ~30 % of streaming throughput
        log_level="info",
    )
    return 0
