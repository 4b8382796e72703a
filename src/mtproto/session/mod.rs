//! MTProto 2.0 encrypted sessions: msg_id, seq_no, salts, acks, containers, rpc results.
