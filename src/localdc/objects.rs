//! The TL objects we answer with: users, channels, messages, documents, the config.
//!
//! Built from the generated layer-227 types; every optional field we do not use is `None`.

use bytes::Bytes;

use crate::tl::{enums, types};

use super::accounts::Account;
use super::media::{Channel, ChannelKind, Document, MediaKind, Message};

/// One DC as announced in `help.getConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcAddress {
    /// DC id.
    pub id: i32,
    /// IP address as text.
    pub ip: String,
    /// TCP port.
    pub port: u16,
    /// A CDN DC.
    pub cdn: bool,
    /// An extra address of a regular DC, for file transfers only (`--media-dcs`).
    pub media_only: bool,
}

/// `user` for an account; `is_self` when sent to the account itself.
pub(super) fn user(a: &Account, is_self: bool) -> enums::User {
    enums::User::User(types::User {
        is_self,
        contact: false,
        mutual_contact: false,
        deleted: false,
        bot: a.bot,
        bot_chat_history: false,
        bot_nochats: a.bot,
        verified: false,
        restricted: false,
        min: false,
        bot_inline_geo: false,
        support: false,
        scam: false,
        apply_min_photo: false,
        fake: false,
        bot_attach_menu: false,
        premium: false,
        attach_menu_enabled: false,
        bot_can_edit: false,
        close_friend: false,
        stories_hidden: false,
        stories_unavailable: false,
        contact_require_premium: false,
        bot_business: false,
        bot_has_main_app: false,
        bot_forum_view: false,
        bot_forum_can_manage_topics: false,
        bot_can_manage_bots: false,
        bot_guestchat: false,
        bot_guard: false,
        id: a.id,
        access_hash: Some(a.access_hash),
        first_name: Some(a.first_name.clone()),
        last_name: None,
        username: a.bot.then(|| format!("bot{}_bot", a.id)),
        phone: if is_self { a.phone.clone() } else { None },
        photo: Some(enums::UserProfilePhoto::UserProfilePhotoEmpty(
            types::UserProfilePhotoEmpty {},
        )),
        status: Some(enums::UserStatus::UserStatusEmpty(
            types::UserStatusEmpty {},
        )),
        bot_info_version: a.bot.then_some(1),
        restriction_reason: None,
        bot_inline_placeholder: None,
        lang_code: None,
        emoji_status: None,
        usernames: None,
        stories_max_id: None,
        color: None,
        profile_color: None,
        bot_active_users: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
    })
}

/// `userFull` for an account.
pub(super) fn user_full(a: &Account) -> types::users::UserFull {
    let full = types::UserFull {
        blocked: false,
        phone_calls_available: false,
        phone_calls_private: false,
        can_pin_message: false,
        has_scheduled: false,
        video_calls_available: false,
        voice_messages_forbidden: false,
        translations_disabled: false,
        stories_pinned_available: false,
        blocked_my_stories_from: false,
        wallpaper_overridden: false,
        contact_require_premium: false,
        read_dates_private: false,
        sponsored_enabled: false,
        can_view_revenue: false,
        bot_can_manage_emoji_status: false,
        display_gifts_button: false,
        noforwards_my_enabled: false,
        noforwards_peer_enabled: false,
        unofficial_security_risk: false,
        id: a.id,
        about: None,
        settings: enums::PeerSettings::PeerSettings(types::PeerSettings {
            report_spam: false,
            add_contact: false,
            block_contact: false,
            share_contact: false,
            need_contacts_exception: false,
            report_geo: false,
            autoarchived: false,
            invite_members: false,
            request_chat_broadcast: false,
            business_bot_paused: false,
            business_bot_can_reply: false,
            geo_distance: None,
            request_chat_title: None,
            request_chat_date: None,
            business_bot_id: None,
            business_bot_manage_url: None,
            charge_paid_message_stars: None,
            registration_month: None,
            phone_country: None,
            name_change_date: None,
            photo_change_date: None,
        }),
        personal_photo: None,
        profile_photo: None,
        fallback_photo: None,
        notify_settings: notify_settings(),
        bot_info: None,
        pinned_msg_id: None,
        common_chats_count: 0,
        folder_id: None,
        ttl_period: None,
        theme: None,
        private_forward_name: None,
        bot_group_admin_rights: None,
        bot_broadcast_admin_rights: None,
        wallpaper: None,
        stories: None,
        business_work_hours: None,
        business_location: None,
        business_greeting_message: None,
        business_away_message: None,
        business_intro: None,
        birthday: None,
        personal_channel_id: None,
        personal_channel_message: None,
        stargifts_count: None,
        starref_program: None,
        bot_verification: None,
        send_paid_messages_stars: None,
        disallowed_gifts: None,
        stars_rating: None,
        stars_my_pending_rating: None,
        stars_my_pending_rating_date: None,
        main_tab: None,
        saved_music: None,
        note: None,
        bot_manager_id: None,
    };
    types::users::UserFull {
        full_user: enums::UserFull::UserFull(full),
        chats: vec![],
        users: vec![user(a, true)],
    }
}

/// Default notification settings (nothing set).
pub(super) fn notify_settings() -> enums::PeerNotifySettings {
    enums::PeerNotifySettings::PeerNotifySettings(types::PeerNotifySettings {
        show_previews: None,
        silent: None,
        mute_until: None,
        ios_sound: None,
        android_sound: None,
        other_sound: None,
        stories_muted: None,
        stories_hide_sender: None,
        stories_ios_sound: None,
        stories_android_sound: None,
        stories_other_sound: None,
    })
}

/// `peerChannel` of a channel.
pub(super) fn peer(c: &Channel) -> enums::Peer {
    enums::Peer::PeerChannel(types::PeerChannel { channel_id: c.id })
}

/// `channel`: a broadcast channel, a forum or a discussion group (supergroups), left like a
/// visitor sees it unless every account is a member (private channels).
pub(super) fn channel(c: &Channel) -> enums::Chat {
    let group = c.kind != ChannelKind::Broadcast;
    enums::Chat::Channel(types::Channel {
        creator: false,
        left: !c.member,
        broadcast: !group,
        verified: false,
        megagroup: group,
        restricted: false,
        signatures: false,
        min: false,
        scam: false,
        has_link: c.discussion.is_some() || matches!(c.kind, ChannelKind::Discussion(_)),
        has_geo: false,
        slowmode_enabled: false,
        call_active: false,
        call_not_empty: false,
        fake: false,
        gigagroup: false,
        noforwards: false,
        join_to_send: false,
        join_request: false,
        forum: c.kind == ChannelKind::Forum,
        stories_hidden: false,
        stories_hidden_min: false,
        stories_unavailable: false,
        signature_profiles: false,
        autotranslation: false,
        broadcast_messages_allowed: false,
        monoforum: false,
        forum_tabs: false,
        id: c.id,
        access_hash: Some(c.access_hash),
        title: c.title.clone(),
        username: c.username.clone(),
        photo: enums::ChatPhoto::ChatPhotoEmpty(types::ChatPhotoEmpty {}),
        date: c.date,
        restriction_reason: None,
        admin_rights: None,
        banned_rights: None,
        default_banned_rights: None,
        participants_count: None,
        usernames: None,
        stories_max_id: None,
        color: None,
        profile_color: None,
        emoji_status: None,
        level: None,
        subscription_until_date: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
        linked_monoforum_id: None,
    })
}

/// The photo size types we announce for a photo: `i` (stripped, inline bytes), `m` and the
/// progressive full size `y`. Every downloadable type serves the whole file (there is no
/// scaler here): `m` says so in its `size`, `y` lists the file's length last.
pub(crate) const PHOTO_SIZES: [&str; 2] = ["m", "y"];

/// `photo` for a library image; `dc_id` is the DC we announce (normally `d.dc_id`).
pub(super) fn photo(d: &Document, file_reference: Bytes, dc_id: i32) -> enums::Photo {
    let (w, h) = match d.kind {
        MediaKind::Photo { width, height } => (width, height),
        MediaKind::Document { .. } => (0, 0),
    };
    let size = i32::try_from(d.size).unwrap_or(i32::MAX);
    let (w, h) = (i32::try_from(w).unwrap_or(0), i32::try_from(h).unwrap_or(0));
    let sizes = vec![
        // A stripped thumbnail is a JPEG body without its standard header: a placeholder.
        enums::PhotoSize::PhotoStrippedSize(types::PhotoStrippedSize {
            r#type: "i".into(),
            bytes: Bytes::from_static(&[1, 8, 8, 0, 0, 0]),
        }),
        enums::PhotoSize::PhotoSize(types::PhotoSize {
            r#type: PHOTO_SIZES[0].into(),
            w: w.min(320),
            h: if w > 320 { h * 320 / w } else { h },
            size,
        }),
        enums::PhotoSize::PhotoSizeProgressive(types::PhotoSizeProgressive {
            r#type: PHOTO_SIZES[1].into(),
            w,
            h,
            sizes: vec![size / 4, size / 2, size],
        }),
    ];
    enums::Photo::Photo(types::Photo {
        has_stickers: false,
        id: d.id,
        access_hash: d.access_hash,
        file_reference,
        date: d.date,
        sizes,
        video_sizes: None,
        dc_id,
    })
}

/// `document` for a library file; `dc_id` is the DC we announce (normally `d.dc_id`).
pub(super) fn document(d: &Document, file_reference: Bytes, dc_id: i32) -> enums::Document {
    let mut attributes = vec![enums::DocumentAttribute::DocumentAttributeFilename(
        types::DocumentAttributeFilename {
            file_name: d.file_name.clone(),
        },
    )];
    if let MediaKind::Document { video: Some(v) } = &d.kind {
        attributes.push(enums::DocumentAttribute::DocumentAttributeVideo(
            types::DocumentAttributeVideo {
                round_message: false,
                supports_streaming: d.mime_type == "video/mp4",
                nosound: false,
                duration: v.duration,
                w: i32::try_from(v.width).unwrap_or(0),
                h: i32::try_from(v.height).unwrap_or(0),
                preload_prefix_size: None,
                video_start_ts: None,
                video_codec: None,
            },
        ));
    }
    enums::Document::Document(types::Document {
        id: d.id,
        access_hash: d.access_hash,
        file_reference,
        date: d.date,
        mime_type: d.mime_type.to_string(),
        size: i64::try_from(d.size).unwrap_or(i64::MAX),
        thumbs: None,
        video_thumbs: None,
        dc_id,
        attributes,
    })
}

/// The media of message `m`: its photo or document, with this file reference and DC.
pub(super) fn media(m: &Message, file_reference: Bytes, dc_id: i32) -> enums::MessageMedia {
    let d = &m.document;
    if d.is_photo() {
        return enums::MessageMedia::MessageMediaPhoto(types::MessageMediaPhoto {
            spoiler: false,
            live_photo: false,
            photo: Some(photo(d, file_reference, dc_id)),
            ttl_seconds: None,
            video: None,
        });
    }
    enums::MessageMedia::MessageMediaDocument(types::MessageMediaDocument {
        nopremium: false,
        spoiler: false,
        video: matches!(d.kind, MediaKind::Document { video: Some(_) }),
        round: false,
        voice: false,
        document: Some(document(d, file_reference, dc_id)),
        alt_documents: None,
        video_cover: None,
        video_timestamp: None,
        ttl_seconds: None,
    })
}

/// The reply header of a topic message or a comment.
fn reply_to(m: &Message) -> Option<enums::MessageReplyHeader> {
    let (to, forum_topic) = match (m.topic, m.reply_to) {
        (Some(topic), _) => (topic, true),
        (None, Some(post)) => (post, false),
        (None, None) => return None,
    };
    Some(enums::MessageReplyHeader::MessageReplyHeader(
        types::MessageReplyHeader {
            reply_to_scheduled: false,
            forum_topic,
            quote: false,
            reply_to_msg_id: Some(to),
            reply_to_peer_id: None,
            reply_from: None,
            reply_media: None,
            reply_to_top_id: None,
            quote_text: None,
            quote_entities: None,
            quote_offset: None,
            todo_item_id: None,
            poll_option: None,
        },
    ))
}

/// `message` `m` of chat `c` carrying `media`.
pub(super) fn message(c: &Channel, m: &Message, media: enums::MessageMedia) -> enums::Message {
    let replies = match (m.comments, c.discussion) {
        (Some((count, max_id)), Some(group)) => Some(enums::MessageReplies::MessageReplies(
            types::MessageReplies {
                comments: true,
                replies: count,
                replies_pts: 1,
                recent_repliers: None,
                channel_id: Some(group),
                max_id: Some(max_id),
                read_max_id: None,
            },
        )),
        _ => None,
    };
    enums::Message::Message(types::Message {
        out: false,
        mentioned: false,
        media_unread: false,
        silent: false,
        post: c.kind == ChannelKind::Broadcast,
        from_scheduled: false,
        legacy: false,
        edit_hide: false,
        pinned: false,
        noforwards: false,
        invert_media: false,
        offline: false,
        video_processing_pending: false,
        paid_suggested_post_stars: false,
        paid_suggested_post_ton: false,
        id: m.id,
        from_id: None,
        from_boosts_applied: None,
        from_rank: None,
        peer_id: peer(c),
        saved_peer_id: None,
        fwd_from: None,
        via_bot_id: None,
        via_business_bot_id: None,
        guestchat_via_from: None,
        reply_to: reply_to(m),
        date: m.document.date,
        message: String::new(),
        media: Some(media),
        reply_markup: None,
        entities: None,
        views: None,
        forwards: None,
        replies,
        edit_date: None,
        post_author: None,
        grouped_id: m.grouped_id,
        reactions: None,
        restriction_reason: None,
        ttl_period: None,
        quick_reply_shortcut_id: None,
        effect: None,
        factcheck: None,
        report_delivery_until_date: None,
        paid_message_stars: None,
        suggested_post: None,
        schedule_repeat_period: None,
        summary_from_language: None,
        rich_message: None,
    })
}

/// `messageEmpty` (a message id with nothing in it).
pub(super) fn empty_message(id: i32, peer: Option<enums::Peer>) -> enums::Message {
    enums::Message::MessageEmpty(types::MessageEmpty { id, peer_id: peer })
}

/// `config` announcing `dcs`, as DC `this_dc` at time `now`.
pub(super) fn config(dcs: &[DcAddress], this_dc: i32, now: i32) -> enums::Config {
    let dc_options = dcs
        .iter()
        .map(|d| {
            enums::DcOption::DcOption(types::DcOption {
                ipv6: d.ip.contains(':'),
                media_only: d.media_only,
                tcpo_only: false,
                cdn: d.cdn,
                r#static: false,
                this_port_only: false,
                id: d.id,
                ip_address: d.ip.clone(),
                port: i32::from(d.port),
                secret: None,
            })
        })
        .collect();
    enums::Config::Config(types::Config {
        default_p2p_contacts: false,
        preload_featured_stickers: false,
        revoke_pm_inbox: false,
        blocked_mode: false,
        force_try_ipv6: false,
        date: now,
        expires: now.saturating_add(3600),
        test_mode: false,
        this_dc,
        dc_options,
        dc_txt_domain_name: String::new(),
        chat_size_max: 200,
        megagroup_size_max: 200_000,
        forwarded_count_max: 100,
        online_update_period_ms: 210_000,
        offline_blur_timeout_ms: 5000,
        offline_idle_timeout_ms: 30_000,
        online_cloud_timeout_ms: 300_000,
        notify_cloud_delay_ms: 30_000,
        notify_default_delay_ms: 1500,
        push_chat_period_ms: 60_000,
        push_chat_limit: 2,
        edit_time_limit: 172_800,
        revoke_time_limit: i32::MAX,
        revoke_pm_time_limit: i32::MAX,
        rating_e_decay: 2_419_200,
        stickers_recent_limit: 200,
        channels_read_media_period: 604_800,
        tmp_sessions: None,
        call_receive_timeout_ms: 20_000,
        call_ring_timeout_ms: 90_000,
        call_connect_timeout_ms: 30_000,
        call_packet_timeout_ms: 10_000,
        me_url_prefix: "https://t.me/".into(),
        autoupdate_url_prefix: None,
        gif_search_username: None,
        venue_search_username: None,
        img_search_username: None,
        static_maps_provider: None,
        caption_length_max: 1024,
        message_length_max: 4096,
        webfile_dc_id: 1,
        suggested_lang_code: None,
        lang_pack_version: None,
        base_lang_pack_version: None,
        reactions_default: None,
        autologin_token: None,
    })
}
