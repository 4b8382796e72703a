//! TL names to Rust names.

/// A TL name to a Rust type name.
///
/// Split on `_`, split each piece where a lower-case letter (or digit) meets an upper-case one,
/// capitalise each word (first letter upper, the rest lower), join:
/// `resPQ` → `ResPq`, `req_DH_params` → `ReqDhParams`, `p_q_inner_data_dc` → `PQInnerDataDc`.
pub fn type_name(tl: &str) -> String {
    let mut out = String::new();
    for piece in tl.split('_') {
        for word in words(piece) {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.push(first.to_ascii_uppercase());
                out.extend(chars.map(|c| c.to_ascii_lowercase()));
            }
        }
    }
    out
}

fn words(piece: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start = 0;
    let bytes = piece.as_bytes();
    for i in 1..bytes.len() {
        let (a, b) = (bytes[i - 1], bytes[i]);
        if (a.is_ascii_lowercase() || a.is_ascii_digit()) && b.is_ascii_uppercase() {
            words.push(&piece[start..i]);
            start = i;
        }
    }
    if start < piece.len() {
        words.push(&piece[start..]);
    }
    words
}

/// A TL parameter name to a Rust field name: snake_case, keywords as raw identifiers,
/// `self` (which cannot be raw) as `is_self`.
pub fn field_name(tl: &str) -> String {
    let mut s = String::new();
    for (i, c) in tl.chars().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower = i > 0 && tl.as_bytes()[i - 1].is_ascii_lowercase();
            if prev_lower {
                s.push('_');
            }
            s.push(c.to_ascii_lowercase());
        } else {
            s.push(c);
        }
    }
    match s.as_str() {
        "self" | "Self" | "super" | "crate" => format!("is_{s}"),
        _ if is_keyword(&s) => format!("r#{s}"),
        _ => s,
    }
}

/// A Rust module name for a TL namespace.
pub fn module_name(ns: &str) -> String {
    field_name(ns)
}

/// A field name usable inside another identifier (`r#type` → `type`).
pub fn bare_ident(field: &str) -> &str {
    field.strip_prefix("r#").unwrap_or(field)
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "as" | "break"
            | "const"
            | "continue"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "static"
            | "struct"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "async"
            | "await"
            | "dyn"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
            | "try"
            | "gen"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_follow_the_rule() {
        assert_eq!(type_name("resPQ"), "ResPq");
        assert_eq!(type_name("ResPQ"), "ResPq");
        assert_eq!(type_name("req_DH_params"), "ReqDhParams");
        assert_eq!(type_name("p_q_inner_data_dc"), "PQInnerDataDc");
        assert_eq!(type_name("server_DH_params_ok"), "ServerDhParamsOk");
        assert_eq!(
            type_name("Set_client_DH_params_answer"),
            "SetClientDhParamsAnswer"
        );
        assert_eq!(type_name("fileCdnRedirect"), "FileCdnRedirect");
        assert_eq!(type_name("inputCheckPasswordSRP"), "InputCheckPasswordSrp");
    }

    #[test]
    fn field_names_are_snake_case_and_keyword_safe() {
        assert_eq!(field_name("server_nonce"), "server_nonce");
        assert_eq!(field_name("type"), "r#type");
        assert_eq!(field_name("final"), "r#final");
        assert_eq!(field_name("self"), "is_self");
        assert_eq!(field_name("camelCase"), "camel_case");
        assert_eq!(bare_ident("r#type"), "type");
    }
}
