"""simpul_platform."""
