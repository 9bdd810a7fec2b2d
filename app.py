"""Product Image Studio, the web app (Gradio 6). Thin over `studio/`: each action is one library call, and
`build_demo` only assembles the rooms in `ui/` (generate, edit, board, and the scriptable api).

    python app.py                                   # http://127.0.0.1:7860, weights from ./weights
    python app.py --host 0.0.0.0 --auth-file studio-data/users.txt --data-dir /srv/studio-data --device cuda
    python -m studio user add studio-data/users.txt ana      # a reviewer account for --auth-file
    make demo                                       # set-up, then the same

Scriptable with gradio_client: /generate, /edit, /repair, /stylize and /export are public endpoints; the
UI-only events (previews, selections) are private. Model calls share one queue ("model", one at a time);
cheap edits run in their own ("cpu").
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import tempfile
from pathlib import Path

import gradio as gr

from studio.edits.session import SessionStore
from studio.review import Board
from ui import api, board as board_room, edit as edit_room, generate as generate_room
from ui.common import Context, keeping

MAX_UPLOAD = "50mb"
SESSION_TTL = 6 * 3600          # seconds an idle tab keeps its edit session in memory (on disk: a week)


def _browser_secret(data_dir: Path) -> str:
    """The key that encrypts the per-browser session id in localStorage, kept in the data dir so the id
    survives a restart (gr.BrowserState draws a new key each start otherwise)."""
    path = data_dir / "browser-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def build_demo(studio=None, board: Board | None = None, export_dir: str | Path | None = None,
               verified_names: bool = False) -> gr.Blocks:
    """The whole app around a Studio (models) and a Board (review store). Nothing runs until launch."""
    if studio is None:
        from studio import Studio

        studio = Studio()
    board = board or Board()
    exports = Path(export_dir or tempfile.mkdtemp(prefix="studio-exports-"))
    exports.mkdir(parents=True, exist_ok=True)
    methods, upscalers = studio.repair_methods(), studio.upscalers()
    ctx = Context(studio, board, SessionStore(board.root / "sessions", methods=methods, upscalers=upscalers), exports,
                  verified_names, methods, upscalers)

    with gr.Blocks(title="Product Image Studio", delete_cache=(3600, 3600)) as demo:
        gr.Markdown("# Product Image Studio\nDescribe a product to get image variants, or upload your own photo. "
                    "Edit it with live previews, check it against a marketplace's rules, save it to the team "
                    "board, and download files that carry how they were made.")
        ctx.components["your_name"] = gr.Textbox(
            label="Your name (shown on the review board)", placeholder="e.g. Ana", elem_id="your-name", max_lines=1,
            max_length=100, visible=not verified_names)
        # the edit session's id lives in the browser (localStorage, so a reload or a restart finds it) and,
        # for the handlers, in this tab's state, whose expiry or deletion frees the session's memory
        ctx.components["browser"] = gr.BrowserState(None, storage_key="studio-edit-session",
                                                    secret=_browser_secret(board.root))
        ctx.components["session_key"] = gr.State(None, time_to_live=SESSION_TTL,
                                                 delete_callback=ctx.sessions.release)
        ctx.components["refresh_board"] = {}
        with gr.Tabs() as tabs:
            with gr.Tab("Generate", id="generate"):
                generate_ui = generate_room.layout(ctx)
            with gr.Tab("Edit", id="edit"):
                edit_ui = edit_room.layout(ctx)
            with gr.Tab("Review board", id="board"):
                board_ui = board_room.layout(ctx)
        board_room.wire(ctx, board_ui)
        generate_room.wire(ctx, generate_ui)
        edit_room.wire(ctx, edit_ui)
        _wire_between_rooms(ctx, generate_ui, edit_ui, tabs)
        api.build(ctx, demo)

        @keeping(2 + len(edit_ui.outputs))
        def restore(browser_id, request: gr.Request):
            """On page load: the edit session this browser changed last, as a copy of its own for this tab (two
            tabs never edit one session); nothing for a first visit, or when the tab already opened a photo."""
            skip = tuple(gr.skip() for _ in range(2 + len(edit_ui.outputs)))
            if ctx.has_started(request):
                return skip
            tab_id = ctx.sessions.fork(browser_id)
            shown = (gr.skip(), tab_id, *edit_room.session_outputs(ctx.sessions.get(tab_id)))
            return skip if ctx.has_started(request) else shown     # an upload won the race meanwhile

        demo.load(restore, ctx.components["browser"],
                  [ctx.components["browser"], ctx.components["session_key"], *edit_ui.outputs],
                  api_visibility="private")
        view, view_inputs, view_outputs = ctx.components["board_view"]
        demo.load(view, view_inputs, view_outputs, api_visibility="private")
        demo.studio, demo.board, demo.exports, demo.sessions = studio, board, exports, ctx.sessions  # tests, bench
    return demo


def _wire_between_rooms(ctx: Context, generate_ui, edit_ui, tabs) -> None:
    """A variant picked on Generate opens on Edit."""
    @keeping(3 + len(edit_ui.outputs))
    def edit_variant(browser_id, made, index, request: gr.Request):
        from studio.edits.session import EditSession

        image, provenance = generate_room.chosen_variant(made, index)
        session = EditSession.open(image, provenance, methods=ctx.methods, upscalers=ctx.upscalers)
        return (*ctx.components["open_session"](browser_id, session, request),
                gr.Tabs(selected="edit"))

    generate_ui.to_edit.click(edit_variant, [ctx.components["session_key"], generate_ui.variants, generate_ui.picked],
                              [ctx.components["session_key"], ctx.components["browser"], *edit_ui.outputs, tabs],
                              api_visibility="private")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Product Image Studio web app")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="interface to listen on (default: 127.0.0.1; 0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)),
                        help="port (default: 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    parser.add_argument("--auth-file", default=os.environ.get("STUDIO_AUTH_FILE"),
                        help="reviewer accounts: a file (name:pbkdf2_sha256$...) or a database URL (the board's, "
                             "for replicas); make them with `python -m studio user add FILE-OR-URL NAME`. "
                             "Sign-in required, the signed-in user is the reviewer")
    parser.add_argument("--auth", default=None, help="a single user:password (prefer --auth-file)")
    parser.add_argument("--data-dir", default=os.environ.get("STUDIO_DATA_DIR", "studio-data"),
                        help="where the review board and edit sessions live (default: $STUDIO_DATA_DIR or "
                             "./studio-data)")
    parser.add_argument("--database-url", default=os.environ.get("STUDIO_DATABASE_URL"),
                        help="the board's database, e.g. postgresql://user:password@host/studio for several "
                             "replicas (default: $STUDIO_DATABASE_URL, else SQLite in --data-dir)")
    parser.add_argument("--weights", default="weights", help="folder of trained models (default: weights)")
    parser.add_argument("--device", default="cpu", help="torch device for the models (default: cpu)")
    args = parser.parse_args(argv)
    auth = None
    if args.auth_file and args.auth:
        parser.error("give --auth-file or --auth, not both")
    if args.auth_file:
        from studio.review.auth import Accounts

        try:
            auth = Accounts.load(args.auth_file).check
        except (OSError, ValueError) as exc:
            parser.error(f"--auth-file: {exc}")
    elif args.auth:
        user, _, password = args.auth.partition(":")
        if not user or not password:
            parser.error("--auth must look like user:password")
        auth = (user, password)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from studio import Studio
    from studio.runtime import tune_allocator

    tune_allocator()                    # big preview buffers reused, not re-mapped per slider event

    try:
        board = Board(args.data_dir, args.database_url)
    except ValueError as exc:                       # BoardError included: names the URL, password masked
        parser.error(str(exc))
    demo = build_demo(Studio(args.weights, device=args.device), board, verified_names=auth is not None)
    demo.queue(max_size=64)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, auth=auth,
                max_file_size=MAX_UPLOAD, footer_links=["api", "gradio"], run_history=False, show_error=False)


if __name__ == "__main__":
    main()
