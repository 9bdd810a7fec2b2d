"""The review board: variants and edits saved with how they were made, decided on by a team.

    from studio.review import Board
    board = Board("studio-data")
    item = board.add(image, prompt="red sneaker", seed=7, model="gan-fashion", recipe=recipe, added_by="ana")
    board.decide(item.id, "ben", "approve")
    board.export_approved("approved.zip")
"""

from .board import ACTIONS, Board, BoardError, Decision, Item

__all__ = ["ACTIONS", "Board", "BoardError", "Decision", "Item"]
