//! Cryptography for MTProto: AES-IGE/CTR, SHA, RSA, PQ, DH checks, SRP, MTProto 2.0 KDF.
