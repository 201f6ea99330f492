"""simpul."""
