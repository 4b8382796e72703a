//! Transport framings (abridged, intermediate, padded, full, obfuscated2), both roles.
