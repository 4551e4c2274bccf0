"""Packaged data files: places.toml (gazetteer), lexicon.toml (shops, brands), signals.toml."""
