"""simpul_infra."""
