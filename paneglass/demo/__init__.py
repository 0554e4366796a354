"""Demo mode: the vendor emulators on loopback with a living Acme world.

Nothing here is fake at the seams that matter: the real connectors poll the
emulators over real HTTP, the real store (a throwaway SQLite file, never the
user's database) keeps what they see, and the real UI shows it. ``session``
starts it; ``world`` is the story; ``fixture`` is the frozen version of the
same story for snapshots and screenshots.
"""
