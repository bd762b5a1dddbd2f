"""The ideas board: pages built from content/ideas/ and the ideas service's
snapshot (snapshot.py). The generator comes with the board."""


def register():
    """Nothing connected yet: the board's generator registers here."""
