//! The TL parser: schema text in, a list of [`Definition`]s out.
//!
//! Handles the syntax the layer uses: `---types---` / `---functions---` sections, `// LAYER N`,
//! optional `#id` (computed when absent, verified when present), `flags:#` / `flags2:#`,
//! `flags.N?Type` and `flags.N?true`, `{X:Type}` generics with `!X`, `Vector<T>` and bare
//! `vector<t>`, `%T` bare types, and `ns.name` namespaces. TDLib's builtin lines (`int ? = Int;`,
//! `bytes = Bytes;`) are recognised and skipped.

use std::fmt;

/// Whether a definition is a constructor of a type or an RPC function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Below `---types---` (the default at the top of a file).
    Types,
    /// Below `---functions---`.
    Functions,
}

/// A reference to a type, as written in a parameter or after `=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    /// `["upload"]` for `upload.File`.
    pub namespace: Vec<String>,
    /// The name without namespace: `File`, `int`, `Vector`, `future_salt`, `X`.
    pub name: String,
    /// Bare: written with a lower-case first letter or a `%` prefix.
    pub bare: bool,
    /// `!X`: the generic parameter X, serialised as the boxed object it is.
    pub generic_ref: bool,
    /// The argument of `Vector<T>` / `vector<T>` (also `Vector t` after `=`).
    pub arg: Option<Box<TypeRef>>,
}

impl TypeRef {
    /// The dotted full name: `upload.File`.
    pub fn full_name(&self) -> String {
        let mut s = self.namespace.join(".");
        if !s.is_empty() {
            s.push('.');
        }
        s.push_str(&self.name);
        s
    }
}

impl fmt::Display for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.generic_ref {
            f.write_str("!")?;
        }
        f.write_str(&self.full_name())?;
        if let Some(arg) = &self.arg {
            write!(f, "<{arg}>")?;
        }
        Ok(())
    }
}

/// `flags.N?` in front of a parameter type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// The name of the `#` parameter holding the bit: `flags`, `flags2`.
    pub field: String,
    /// The bit number, 0..=31.
    pub bit: u32,
}

/// What a parameter is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamKind {
    /// `flags:#`: a bit field computed on serialisation, never stored.
    Flags,
    /// An ordinary parameter, optionally conditional on a flag bit.
    Normal {
        /// Its type.
        ty: TypeRef,
        /// `flags.N?`, if present.
        flag: Option<Flag>,
    },
}

/// One parameter of a combinator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The TL name: `server_nonce`.
    pub name: String,
    /// Its kind.
    pub kind: ParamKind,
}

/// One combinator line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// `["upload"]` for `upload.fileCdnRedirect`.
    pub namespace: Vec<String>,
    /// The name without namespace: `fileCdnRedirect`.
    pub name: String,
    /// The constructor id (explicit, or computed by CRC32).
    pub id: u32,
    /// Whether the line carried `#id`.
    pub explicit_id: bool,
    /// Generic parameter names from `{X:Type}`.
    pub generics: Vec<String>,
    /// Parameters in wire order.
    pub params: Vec<Param>,
    /// The result type (after `=`).
    pub ty: TypeRef,
    /// Type constructor or function.
    pub category: Category,
    /// 1-based line number in the source file.
    pub line: usize,
    /// A builtin (`vector`, `true`, `boolTrue`, `boolFalse`): listed and verified, not generated.
    pub builtin: bool,
}

impl Definition {
    /// The dotted full name: `upload.fileCdnRedirect`.
    pub fn full_name(&self) -> String {
        let mut s = self.namespace.join(".");
        if !s.is_empty() {
            s.push('.');
        }
        s.push_str(&self.name);
        s
    }

    /// The line in canonical form: single spaces, explicit 8-digit id, trailing `;`.
    pub fn canonical(&self) -> String {
        let mut s = format!("{}#{:08x}", self.full_name(), self.id);
        if self.name == "vector" && self.namespace.is_empty() {
            return format!("{s} {{t:Type}} # [ t ] = Vector t;");
        }
        for g in &self.generics {
            s.push_str(&format!(" {{{g}:Type}}"));
        }
        for p in &self.params {
            s.push(' ');
            s.push_str(&p.name);
            s.push(':');
            match &p.kind {
                ParamKind::Flags => s.push('#'),
                ParamKind::Normal { ty, flag } => {
                    if let Some(f) = flag {
                        s.push_str(&format!("{}.{}?", f.field, f.bit));
                    }
                    if ty.bare && !ty.generic_ref && starts_upper(&ty.name) {
                        s.push('%');
                    }
                    s.push_str(&ty.to_string());
                }
            }
        }
        s.push_str(&format!(" = {};", self.ty));
        s
    }
}

/// A parsed schema file.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// From `// LAYER N`, if present.
    pub layer: Option<i32>,
    /// Every definition, in file order.
    pub definitions: Vec<Definition>,
}

/// A parse or verification failure, naming the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// The offending text.
    pub text: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.message, self.text)
    }
}

impl std::error::Error for ParseError {}

/// Names TDLib declares as builtin types (`int ? = Int;`, `bytes = Bytes;`): never generated.
const BUILTIN_TYPE_NAMES: &[&str] = &[
    "int", "long", "double", "string", "bytes", "int128", "int256",
];
/// Builtin constructors: their ids are listed and verified, the runtime handles them by hand.
const BUILTIN_CONSTRUCTORS: &[&str] = &["vector", "true", "boolFalse", "boolTrue"];

/// Published (name, id) pairs whose id is not the CRC32 of their published line under any
/// normalisation (Telegram assigned them from an older form of the line). They are the ids real
/// servers send, so they are accepted as written; every other mismatch is an error.
/// The two `*Legacy` ones are TDLib renames: their id is the CRC32 of the line under the
/// original name (`inputPeerPhotoFileLocation`, `inputStickerSetThumb`), checked by a test.
pub const KNOWN_ID_EXCEPTIONS: &[(&str, u32)] = &[
    ("accessPointRule", 0x4679b65f),
    ("help.configSimple", 0x5a592a6c),
    ("inputPeerPhotoFileLocationLegacy", 0x27d69997),
    ("inputStickerSetThumbLegacy", 0x0dbaeae9),
    // TDLib's `invokeWith*Prefix` lines describe the head of the generic `invokeWith*` call
    // (everything before `query:!X`) and carry that call's id.
    ("invokeWithBusinessConnectionPrefix", 0xdd289f8e),
    ("invokeWithGooglePlayIntegrityPrefix", 0x1df92984),
    ("invokeWithApnsSecretPrefix", 0x0dae54f8),
    ("invokeWithReCaptchaPrefix", 0xadbb0f94),
];

fn starts_upper(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// The CRC32 id of a combinator line by TL's rule.
///
/// The line is normalised first: the `#id` is dropped, so are `name:flags.N?true` parameters,
/// `bytes` is written `string` (it is an alias on the wire), `<` becomes a space and `>`, `{`,
/// `}` and the final `;` vanish, whitespace collapses to single spaces. Example: `resPQ
/// nonce:int128 server_nonce:int128 pq:string server_public_key_fingerprints:Vector long = ResPQ`.
pub fn compute_id(line: &str) -> u32 {
    crc32fast::hash(normalise(line).as_bytes())
}

/// Whether `id` verifies for `line`: the CRC32 of [`normalise`], or of the form keeping `bytes`
/// as written (older constructors such as `ipPortSecret` were hashed that way).
pub fn id_verifies(line: &str, id: u32) -> bool {
    id == compute_id(line) || id == crc32fast::hash(normalise_with(line, false).as_bytes())
}

/// The normalised form [`compute_id`] hashes.
pub fn normalise(line: &str) -> String {
    normalise_with(line, true)
}

fn normalise_with(line: &str, bytes_as_string: bool) -> String {
    let line = line.trim().trim_end_matches(';');
    let mut out: Vec<String> = Vec::new();
    for (i, token) in line.split_whitespace().enumerate() {
        let token = if i == 0 {
            token.split('#').next().unwrap_or(token)
        } else {
            token
        };
        if i > 0 && is_true_flag(token) {
            continue;
        }
        let mut t = token.replace('<', " ").replace(['>', '{', '}'], "");
        if bytes_as_string && i > 0 {
            if let Some(head) = t
                .strip_suffix("bytes")
                .filter(|h| h.ends_with([':', '?', ' ']))
            {
                t = format!("{head}string");
            }
        }
        out.extend(t.split_whitespace().map(str::to_owned));
    }
    out.join(" ")
}

fn is_true_flag(token: &str) -> bool {
    match token.split_once(':') {
        Some((_, ty)) => ty.starts_with("flags") && ty.ends_with("?true") && ty.contains('.'),
        None => false,
    }
}

/// Parse a whole schema file. Explicit ids are verified; a mismatch is an error naming the line.
pub fn parse(text: &str) -> Result<Schema, ParseError> {
    let mut schema = Schema::default();
    let mut category = Category::Types;
    let mut pending = String::new();
    let mut pending_line = 0;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = raw.trim();
        if let Some(rest) = trimmed.strip_prefix("//") {
            let rest = rest.trim();
            if let Some(n) = rest.strip_prefix("LAYER") {
                let layer = n.trim().parse().map_err(|_| ParseError {
                    line: line_no,
                    text: raw.to_owned(),
                    message: "bad LAYER number".into(),
                })?;
                schema.layer = Some(layer);
            }
            continue;
        }
        let code = match trimmed.find("//") {
            Some(p) => trimmed[..p].trim(),
            None => trimmed,
        };
        if code.is_empty() {
            continue;
        }
        if pending.is_empty() {
            match code {
                "---types---" => {
                    category = Category::Types;
                    continue;
                }
                "---functions---" => {
                    category = Category::Functions;
                    continue;
                }
                _ => {}
            }
            pending_line = line_no;
        } else {
            pending.push(' ');
        }
        pending.push_str(code);
        if !code.ends_with(';') {
            continue;
        }
        let statement = std::mem::take(&mut pending);
        if let Some(def) = parse_definition(&statement, category, pending_line)? {
            schema.definitions.push(def);
        }
    }
    if !pending.is_empty() {
        return Err(ParseError {
            line: pending_line,
            text: pending,
            message: "definition without ';'".into(),
        });
    }
    Ok(schema)
}

/// Parse one definition (text up to and including `;`). `Ok(None)` for builtin type lines.
pub fn parse_definition(
    text: &str,
    category: Category,
    line: usize,
) -> Result<Option<Definition>, ParseError> {
    let err = |message: &str| ParseError {
        line,
        text: text.to_owned(),
        message: message.to_owned(),
    };
    let body = text.trim().trim_end_matches(';').trim();
    let (left, right) = body.split_once('=').ok_or_else(|| err("missing '='"))?;
    let mut tokens = left.split_whitespace();
    let head = tokens.next().ok_or_else(|| err("missing name"))?;
    let rest: Vec<&str> = tokens.collect();
    if rest.contains(&"?") {
        return Ok(None); // `int ? = Int;`
    }
    let (full_name, id_text) = match head.split_once('#') {
        Some((n, id)) => (n, Some(id)),
        None => (head, None),
    };
    let (namespace, name) = split_namespace(full_name);
    if namespace.is_empty() && BUILTIN_TYPE_NAMES.contains(&name.as_str()) {
        return Ok(None); // `bytes = Bytes;`
    }
    if !is_ident(&name) || namespace.iter().any(|n| !is_ident(n)) {
        return Err(err("bad combinator name"));
    }
    let computed = compute_id(text);
    let (id, explicit_id) = match id_text {
        Some(hex) => {
            let id = u32::from_str_radix(hex, 16).map_err(|_| err("bad #id"))?;
            let excepted = KNOWN_ID_EXCEPTIONS.contains(&(full_name, id));
            if !id_verifies(text, id) && !excepted {
                return Err(err(&format!(
                    "#id {id:08x} does not match CRC32 {computed:08x} of the normalised line `{}`",
                    normalise(text)
                )));
            }
            (id, true)
        }
        None => (computed, false),
    };
    let builtin = namespace.is_empty() && BUILTIN_CONSTRUCTORS.contains(&name.as_str());
    let ty = parse_result_type(right.trim()).ok_or_else(|| err("bad result type"))?;
    let mut generics = Vec::new();
    let mut params = Vec::new();
    if !(builtin && name == "vector") {
        for token in rest {
            if let Some(g) = token.strip_prefix('{') {
                let g = g.strip_suffix('}').ok_or_else(|| err("bad generic"))?;
                let (gname, kind) = g.split_once(':').ok_or_else(|| err("bad generic"))?;
                if kind != "Type" || !is_ident(gname) {
                    return Err(err("bad generic"));
                }
                generics.push(gname.to_owned());
                continue;
            }
            let (pname, pty) = token
                .split_once(':')
                .ok_or_else(|| err(&format!("bad parameter `{token}`")))?;
            if !is_ident(pname) {
                return Err(err(&format!("bad parameter name `{pname}`")));
            }
            if pty == "#" {
                params.push(Param {
                    name: pname.to_owned(),
                    kind: ParamKind::Flags,
                });
                continue;
            }
            let (flag, tyname) = match pty.split_once('?') {
                Some((cond, t)) => {
                    let (field, bit) = cond
                        .split_once('.')
                        .ok_or_else(|| err("bad flag condition"))?;
                    let bit: u32 = bit.parse().map_err(|_| err("bad flag bit"))?;
                    if bit > 31 {
                        return Err(err("flag bit above 31"));
                    }
                    let is_flags_param = params
                        .iter()
                        .any(|p: &Param| p.name == field && p.kind == ParamKind::Flags);
                    if !is_flags_param {
                        return Err(err(&format!(
                            "flag field `{field}` is not a preceding `#` parameter"
                        )));
                    }
                    (
                        Some(Flag {
                            field: field.to_owned(),
                            bit,
                        }),
                        t,
                    )
                }
                None => (None, pty),
            };
            let ty = parse_type(tyname).ok_or_else(|| err(&format!("bad type `{tyname}`")))?;
            if ty.generic_ref && !generics.contains(&ty.name) {
                return Err(err(&format!("`!{}` names no generic parameter", ty.name)));
            }
            if ty.name == "true" && flag.is_none() {
                return Err(err("`true` outside a flag"));
            }
            params.push(Param {
                name: pname.to_owned(),
                kind: ParamKind::Normal { ty, flag },
            });
        }
    }
    Ok(Some(Definition {
        namespace,
        name,
        id,
        explicit_id,
        generics,
        params,
        ty,
        category,
        line,
        builtin,
    }))
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

fn split_namespace(full: &str) -> (Vec<String>, String) {
    let mut parts: Vec<String> = full.split('.').map(str::to_owned).collect();
    let name = parts.pop().unwrap_or_default();
    (parts, name)
}

/// Parse a parameter type: `int`, `Vector<long>`, `vector<%Message>`, `!X`, `%T`, `ns.Type`.
pub fn parse_type(s: &str) -> Option<TypeRef> {
    let (s, generic_ref) = match s.strip_prefix('!') {
        Some(rest) => (rest, true),
        None => (s, false),
    };
    let (s, percent) = match s.strip_prefix('%') {
        Some(rest) => (rest, true),
        None => (s, false),
    };
    let (base, arg) = match s.find('<') {
        Some(p) => {
            let inner = s[p + 1..].strip_suffix('>')?;
            (&s[..p], Some(Box::new(parse_type(inner)?)))
        }
        None => (s, None),
    };
    let (namespace, name) = split_namespace(base);
    if !is_ident(&name) || namespace.iter().any(|n| !is_ident(n)) {
        return None;
    }
    if arg.is_some() != (name == "Vector" || name == "vector") {
        return None;
    }
    let bare = percent || name.starts_with(|c: char| c.is_ascii_lowercase());
    Some(TypeRef {
        namespace,
        name,
        bare,
        generic_ref,
        arg,
    })
}

fn parse_result_type(s: &str) -> Option<TypeRef> {
    let mut parts = s.split_whitespace();
    let first = parts.next()?;
    match parts.next() {
        None => parse_type(first),
        Some(arg) => {
            if parts.next().is_some() {
                return None;
            }
            if first != "Vector" {
                return None;
            }
            let arg = TypeRef {
                namespace: vec![],
                name: arg.to_owned(),
                bare: true,
                generic_ref: false,
                arg: None,
            };
            Some(TypeRef {
                namespace: vec![],
                name: first.to_owned(),
                bare: false,
                generic_ref: false,
                arg: Some(Box::new(arg)),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_follows_the_tl_rule() {
        assert_eq!(
            normalise("resPQ#05162463 nonce:int128 server_nonce:int128 pq:string server_public_key_fingerprints:Vector<long> = ResPQ;"),
            "resPQ nonce:int128 server_nonce:int128 pq:string server_public_key_fingerprints:Vector long = ResPQ"
        );
        assert_eq!(
            normalise("a#1 flags:# big:flags.0?true x:flags.1?Vector<int> {X:Type} q:!X = X;"),
            "a flags:# x:flags.1?Vector int X:Type q:!X = X"
        );
        assert_eq!(
            compute_id("vector {t:Type} # [ t ] = Vector t;"),
            0x1cb5c415
        );
        assert_eq!(
            normalise("a#1 x:bytes y:flags.0?bytes z:Vector<bytes> = A;"),
            "a x:string y:flags.0?string z:Vector string = A"
        );
        assert!(id_verifies(
            "ipPortSecret ipv4:int port:int secret:bytes = IpPort;",
            0x37982646
        ));
    }

    #[test]
    fn ids_verify_and_mismatches_name_the_line() {
        let ok = parse("resPQ#05162463 nonce:int128 server_nonce:int128 pq:string server_public_key_fingerprints:Vector<long> = ResPQ;").unwrap();
        assert_eq!(ok.definitions[0].id, 0x05162463);
        let bad = parse("\n\nresPQ#05162464 nonce:int128 server_nonce:int128 pq:string server_public_key_fingerprints:Vector<long> = ResPQ;").unwrap_err();
        assert_eq!(bad.line, 3);
        assert!(bad.to_string().contains("does not match"), "{bad}");
    }

    #[test]
    fn legacy_exceptions_hash_under_their_original_names() {
        assert_eq!(
            compute_id("inputPeerPhotoFileLocation flags:# big:flags.0?true peer:InputPeer volume_id:long local_id:int = InputFileLocation"),
            0x27d69997
        );
        assert_eq!(
            compute_id("inputStickerSetThumb stickerset:InputStickerSet volume_id:long local_id:int = InputFileLocation"),
            0x0dbaeae9
        );
    }

    #[test]
    fn missing_ids_are_computed() {
        let s = parse("tlsBlockZero length:int = TlsBlock;").unwrap();
        assert_eq!(
            s.definitions[0].id,
            compute_id("tlsBlockZero length:int = TlsBlock")
        );
        assert!(!s.definitions[0].explicit_id);
    }

    #[test]
    fn sections_layer_flags_generics_and_builtins() {
        let s = parse(
            "// LAYER 227\nint ? = Int;\nbytes = Bytes;\nboolTrue#997275b5 = Bool;\n---functions---\n\
             invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;\n\
             ---types---\nm#0 flags:# a:flags.3?true b:flags2.1?string = M; // comment\n",
        );
        // m#0 has a wrong id on purpose.
        assert!(s.is_err());
        let s = parse(
            "// LAYER 227\nint ? = Int;\nbytes = Bytes;\nboolTrue#997275b5 = Bool;\n---functions---\n\
             invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;\n---types---\nfuture_salts#ae500895 req_msg_id:long now:int salts:vector<future_salt> = FutureSalts;\n",
        )
        .unwrap();
        assert_eq!(s.layer, Some(227));
        assert_eq!(s.definitions.len(), 3);
        assert!(s.definitions[0].builtin);
        let inv = &s.definitions[1];
        assert_eq!(inv.category, Category::Functions);
        assert_eq!(inv.generics, vec!["X".to_owned()]);
        match &inv.params[1].kind {
            ParamKind::Normal { ty, .. } => assert!(ty.generic_ref),
            k => panic!("{k:?}"),
        }
        let fs = &s.definitions[2];
        assert_eq!(fs.category, Category::Types);
        match &fs.params[2].kind {
            ParamKind::Normal { ty, .. } => {
                assert!(ty.bare);
                assert_eq!(ty.arg.as_ref().unwrap().name, "future_salt");
            }
            k => panic!("{k:?}"),
        }
    }

    #[test]
    fn flag_on_unknown_field_is_rejected() {
        assert!(parse("a x:flags.0?int = A;").is_err());
        assert!(parse("a flags:# x:flags.40?int = A;").is_err());
        assert!(parse("a flags:# x:true = A;").is_err());
    }

    #[test]
    fn canonical_form_round_trips() {
        let line = "inputMediaUploadedPhoto#7d8375da flags:# spoiler:flags.2?true live_photo:flags.3?true file:InputFile stickers:flags.0?Vector<InputDocument> ttl_seconds:flags.1?int video:flags.3?InputDocument = InputMedia;";
        let d = parse(line).unwrap().definitions.remove(0);
        assert_eq!(d.canonical(), line);
        let again = parse(&d.canonical()).unwrap().definitions.remove(0);
        assert_eq!(again, d);
    }
}
