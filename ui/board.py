"""The Review board room: saved variants and edits, filtered, compared side by side, approved or rejected,
commented on, and the approved ones exported as a zip. With sign-in the signed-in user is the reviewer;
without it the names are as typed, and the board says they are unverified."""

from __future__ import annotations

import html
from types import SimpleNamespace

import gradio as gr

from .common import Context, keeping

FILTERS = ["all", "pending", "approved", "rejected", "starred"]


def reviewer(ctx: Context, typed: str | None, request: gr.Request | None, adding: bool = False) -> str:
    """Who is acting: the signed-in user when the app has sign-in, else the typed name."""
    user = getattr(request, "username", None) if request is not None else None
    if ctx.verified_names:
        if not user:
            raise ValueError("sign in to use the board")
        return user
    name = (typed or "").strip()
    if not name:
        if adding:
            return "anonymous"
        raise ValueError("enter your name at the top of the page before reviewing")
    return name


def text(value) -> str:
    """User-written text shown as text in Markdown: Markdown's markup characters backslash-escaped first,
    then HTML escaped (in that order, so the entities HTML escaping makes, like &#x27;, stay whole)."""
    escaped = str(value or "").replace("\n", " ")
    for mark in "\\`*_{}[]()#+-.!|~":                # > and < become &gt; and &lt; below
        escaped = escaped.replace(mark, "\\" + mark)
    return html.escape(escaped, quote=True)


def layout(ctx: Context) -> SimpleNamespace:
    ui = SimpleNamespace()
    if not ctx.verified_names:
        gr.Markdown("Names on this board are **not verified**: anyone can type any name. Start the app with "
                    "`--auth-file` for sign-in.", elem_id="unverified-note")
    with gr.Row():
        ui.filter = gr.Dropdown(FILTERS, value="all", label="Show")
        ui.refresh = gr.Button("Refresh", elem_id="refresh-board")
        ui.export = gr.Button("Zip the approved items")
        ui.download = gr.DownloadButton("Download approved", visible=False)
    ui.gallery = gr.Gallery(label="Board", columns=5, height=300, allow_preview=False, format="png",
                            object_fit="contain", fit_columns=False, elem_id="board")
    ui.ids = gr.State([])
    ui.chosen = gr.State(None)
    ui.details = gr.Markdown("_Select an item._", elem_id="item-details")
    with gr.Row():
        ui.approve = gr.Button("Approve", variant="primary", elem_id="approve")
        ui.reject = gr.Button("Reject", variant="stop", elem_id="reject")
        ui.star = gr.Button("Star")
        ui.comment = gr.Textbox(label="Comment", max_lines=3, max_length=2000, elem_id="comment")
        ui.add_comment = gr.Button("Add comment", elem_id="add-comment")
    ui.compare_pick = gr.Dropdown([], multiselect=True, label="Compare side by side (pick two or more)")
    ui.side_by_side = gr.Gallery(label="Side by side", columns=4, height=320, allow_preview=False, format="png",
                                 object_fit="contain", fit_columns=False)
    return ui


def wire(ctx: Context, ui: SimpleNamespace) -> None:
    board = ctx.board
    view_outputs = [ui.gallery, ui.ids, ui.compare_pick]

    def board_view(which):
        items = board.items(starred=True) if which == "starred" else board.items(
            status=None if which in (None, "all") else which)
        shown = [(str(board.thumbnail(item.id)), f"{item.status.upper()} · {item.title}"
                  + (f" ★{len(item.stars)}" if item.stars else "")) for item in items]
        choices = [(f"{i.title} ({i.status}, {i.id})", i.id) for i in board.items()]
        return shown, [i.id for i in items], gr.Dropdown(choices=choices)

    # the other rooms refresh the board after they save to it: `.success(**ctx.components["refresh_board"])`
    shown_view = keeping(len(view_outputs))(board_view)
    ctx.components["refresh_board"].update(fn=shown_view, inputs=ui.filter, outputs=view_outputs,
                                           api_visibility="private")
    gr.on([ui.refresh.click, ui.filter.change], shown_view, ui.filter, view_outputs,
          api_visibility="private")

    def who(name: str, verified: bool) -> str:
        return text(name) + ("" if verified else " (unverified)")

    def describe(item_id):
        if item_id is None:
            return "_Select an item._"
        item = board.get(item_id)
        trail = board.history(item_id)
        latest = {d.reviewer: d.verified for d in trail}
        approvals = ", ".join(who(r, latest.get(r, False)) for r in item.approvals)
        rejections = ", ".join(who(r, latest.get(r, False)) for r in item.rejections)
        lines = [f"### {text(item.title)}",
                 f"**Status:** {item.status}" + (f" (approved by {approvals})" if approvals else "")
                 + (f" (rejected by {rejections})" if rejections else ""),
                 f"**Prompt:** {text(item.prompt) or '—'} · **seed** {item.seed if item.seed is not None else '—'}"
                 f" · **model** {text(item.model) or '—'} · {item.width}x{item.height} px"
                 f" · added by {text(item.added_by)}",
                 "**Recipe:** " + (text("; ".join(item.recipe.summaries())) or "none")]
        lines += [f"> {who(d.reviewer, d.verified)}: {text(d.comment)}" for d in trail if d.action == "comment"]
        if trail:
            lines.append("**Audit trail:** " + "; ".join(f"{who(d.reviewer, d.verified)} {d.action}" for d in trail))
        return "\n\n".join(lines)

    def choose(ids, evt: gr.SelectData):
        item_id = ids[evt.index]
        return item_id, describe(item_id)

    ui.gallery.select(keeping(2)(choose), ui.ids, [ui.chosen, ui.details], api_visibility="private")

    def act(action):
        @keeping(5)                          # a refused comment stays in its box
        def run(item_id, name, words, which, request: gr.Request):
            if item_id is None:
                raise ValueError("select an item on the board first")
            board.decide(item_id, reviewer(ctx, name, request), action, words if action == "comment" else None,
                         verified=ctx.verified_names)
            return (describe(item_id), *board_view(which), "" if action == "comment" else words)
        return run

    for button, action in ((ui.approve, "approve"), (ui.reject, "reject"), (ui.star, "star"),
                           (ui.add_comment, "comment")):
        button.click(act(action), [ui.chosen, ctx.components["your_name"], ui.comment, ui.filter],
                     [ui.details, *view_outputs, ui.comment], api_visibility="private")

    @keeping(1)
    def side_by_side(ids):
        return [(str(board.thumbnail(item_id)), f"{board.get(item_id).status.upper()} · {board.get(item_id).title}")
                for item_id in ids or []]

    ui.compare_pick.change(side_by_side, ui.compare_pick, ui.side_by_side, api_visibility="private")

    @keeping(1)
    def zip_approved():
        path = board.export_approved(ctx.out_folder() / "approved.zip")
        return gr.DownloadButton(value=str(path), visible=True)

    ui.export.click(zip_approved, None, ui.download, api_visibility="private")
    ctx.components["board_view"] = (shown_view, ui.filter, view_outputs)
