"""The web app's rooms (Gradio only; everything they do is a call into `studio`): generate, edit, board, and
the scriptable api. `app.build_demo` assembles them."""
