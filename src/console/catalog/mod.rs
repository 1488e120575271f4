//! The console's message catalog, English and Japanese. A typed catalog checked by the compiler
//! rather than Fluent files: every message is a field, written once with both languages side by
//! side, so a message missing in either language is a build error, a misspelt message name in a
//! template is a build error (askama compiles templates), and nothing is looked up by string at
//! run time. Messages with values take them through `{name}` placeholders filled by `fill`.
//! The admin API's own texts (scope descriptions, endpoint summaries) are in `api`.

pub mod account;
pub mod api;
pub mod audit_log;
pub mod invitations;
pub mod members;
pub mod policies;

use crate::domain::Scope;

/// A language the console speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Ja,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    /// The BCP 47 tag, for `<html lang>`, the language cookie and the user's setting.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// The language's name in itself, as the switcher shows it whatever the page's language.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ja => "日本語",
        }
    }

    /// A tag such as `ja`, `ja-JP` or `en-US`; anything else is not ours.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    /// The best of our languages for an `Accept-Language` header: the highest-weighted tag we
    /// speak (weights as RFC 9110 gives them), English when none is.
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else {
            return Lang::En;
        };
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("");
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()))
                .unwrap_or(1.0);
            if let Some(lang) = Lang::from_tag(tag)
                && weight > 0.0
                && best.is_none_or(|(w, _)| weight > w)
            {
                best = Some((weight, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    pub fn messages(self) -> &'static Messages {
        match self {
            Lang::En => &EN,
            Lang::Ja => &JA,
        }
    }

    /// What a scope allows (taken by reference too, as templates hold them).
    pub fn scope_description(self, scope: impl std::borrow::Borrow<Scope>) -> &'static str {
        let scope = *scope.borrow();
        match self {
            Lang::En => scope.description(),
            Lang::Ja => api::scope_description_ja(scope),
        }
    }

    pub fn scope_family(self, scope: impl std::borrow::Borrow<Scope>) -> &'static str {
        let scope = *scope.borrow();
        match self {
            Lang::En => scope.family(),
            Lang::Ja => api::scope_family_ja(scope.family()).unwrap_or(scope.family()),
        }
    }

    pub fn endpoint_summary(self, summary: &'static str) -> &'static str {
        match self {
            Lang::En => summary,
            Lang::Ja => api::endpoint_summary_ja(summary).unwrap_or(summary),
        }
    }
}

/// Replaces each `{name}` of `message` with its value.
pub fn fill(message: &str, values: &[(&str, &str)]) -> String {
    let mut out = message.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// Defines a catalog: a `Messages` struct with one field per message, its English and Japanese
/// values, `of(lang)`, and a test that both languages fill the same placeholders. The layout's
/// catalog is below; each page family keeps its own beside it (`members`, `audit_log`, ...).
macro_rules! catalog {
    ($($name:ident: $en:literal, $ja:literal;)+) => {
        /// Every message of this catalog, in one language.
        #[derive(Debug)]
        pub struct Messages {
            $(pub $name: &'static str,)+
        }

        pub static EN: Messages = Messages { $($name: $en,)+ };
        pub static JA: Messages = Messages { $($name: $ja,)+ };

        impl Messages {
            /// Every message, by name, for the tests that check a page's language.
            pub fn all(&self) -> Vec<(&'static str, &'static str)> {
                vec![$((stringify!($name), self.$name),)+]
            }
        }

        /// This catalog in the given language.
        #[allow(dead_code)]
        pub fn of(lang: $crate::console::catalog::Lang) -> &'static Messages {
            match lang {
                $crate::console::catalog::Lang::En => &EN,
                $crate::console::catalog::Lang::Ja => &JA,
            }
        }

        #[cfg(test)]
        mod catalog_shape {
            #[test]
            fn both_languages_fill_the_same_placeholders() {
                for ((name, en), (_, ja)) in super::EN.all().into_iter().zip(super::JA.all()) {
                    assert_eq!(
                        $crate::console::catalog::placeholders(en),
                        $crate::console::catalog::placeholders(ja),
                        "message {name}"
                    );
                }
            }
        }
    };
}
pub(crate) use catalog;

/// The `{name}` placeholders of a message, sorted.
#[cfg(test)]
pub(crate) fn placeholders(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect();
    names.sort();
    names
}

catalog! {
    // Layout
    skip_to_content: "Skip to content", "コンテンツにスキップ";
    product_tagline: "API keys for your organizations", "組織の API キー管理";
    members: "Members", "メンバー";
    audit_log: "Audit log", "監査ログ";
    policies: "Policies", "ポリシー";
    your_account: "Your account", "アカウント";
    signed_in_as: "Signed in as {name}", "{name} としてサインイン中";
    sign_out: "Sign out", "サインアウト";
    language: "Language", "言語";
    switch_language: "Change language", "言語を変更";
    current_org: "Organization", "組織";
    switch_org: "Switch organization", "組織を切り替え";
    settings: "Settings", "設定";
    api_keys: "API keys", "API キー";
    utc: "UTC", "UTC";
    date_format: "%b %-d, %Y", "%Y年%-m月%-d日";
    date_time_format: "%b %-d, %Y %H:%M", "%Y年%-m月%-d日 %H:%M";
    // Errors
    not_found_heading: "Page not found", "ページが見つかりません";
    not_found_message: "There is nothing at this address, or you do not have access to it.", "このアドレスには何もないか、アクセス権がありません。";
    bad_input_heading: "A field cannot be taken as sent", "送信された項目を受け付けられません";
    bad_input_message: "A field holds a control character (such as NUL, or a line break in a one-line field), which no field takes, or is longer than any field takes. Go back, correct it and try again.", "項目に制御文字（NUL や、1 行の項目での改行など）が含まれているか、どの項目にも入らない長さです。戻って修正し、もう一度お試しください。";
    bad_input_field: "The field:", "該当する項目:";
    unavailable_heading: "Temporarily unavailable", "一時的に利用できません";
    unavailable_message: "keyward cannot reach its database. Try again in a moment.", "keyward がデータベースに接続できません。しばらくしてからもう一度お試しください。";
    internal_heading: "Something went wrong", "問題が発生しました";
    internal_message: "keyward could not complete this request. Try again.", "keyward はこのリクエストを完了できませんでした。もう一度お試しください。";
    forbidden_heading: "This form has expired", "このフォームは期限切れです";
    forbidden_message: "The form expired or did not come from this site. Go back, reload the page and try again.", "フォームの期限が切れたか、このサイトから送信されていません。戻ってページを再読み込みし、もう一度お試しください。";
    back_home: "Go to the start page", "スタートページへ";
    // Before first-run setup
    setup_needed_title: "keyward is not set up yet", "keyward はまだセットアップされていません";
    setup_needed_message: "keyward has no administrator yet. Open the one-time setup link (…/setup?token=…) that the server printed to its log when it started. If it has expired, restart keyward to print a new one.", "keyward にはまだ管理者がいません。サーバーの起動時にログに出力された 1 回限りのセットアップ リンク (…/setup?token=…) を開いてください。期限が切れている場合は、keyward を再起動すると新しいリンクが出力されます。";
    // First-run setup
    setup_title: "Set up keyward", "keyward のセットアップ";
    setup_intro: "Create the first administrator and the first organization. This page works once.", "最初の管理者と最初の組織を作成します。このページは 1 回だけ使用できます。";
    setup_you: "You", "あなた";
    setup_your_org: "Your organization", "あなたの組織";
    display_name: "Name", "氏名";
    password_new: "Password (at least 12 characters)", "パスワード (12 文字以上)";
    password_confirm: "Confirm password", "パスワードの確認";
    org_name: "Organization name", "組織名";
    setup_submit: "Create administrator and organization", "管理者と組織を作成";
    setup_link_unusable: "This setup link has expired or was already used. Restart keyward to print a new link in its log.", "このセットアップ リンクは期限切れか、すでに使用されています。keyward を再起動すると、新しいリンクがログに出力されます。";
    name_required: "Enter a name.", "名前を入力してください。";
    name_too_long: "Use at most {n} characters.", "{n} 文字以内で入力してください。";
    name_control: "Remove control characters from the name.", "名前から制御文字を削除してください。";
    email_required: "Enter an email address.", "メールアドレスを入力してください。";
    email_invalid: "Enter an email address like name@example.com.", "name@example.com のような形式でメールアドレスを入力してください。";
    password_too_short: "Use at least {n} characters.", "{n} 文字以上で入力してください。";
    password_too_long: "Use at most {n} characters.", "{n} 文字以内で入力してください。";
    password_mismatch: "The two passwords do not match.", "2 つのパスワードが一致しません。";
    // Sign-in
    sign_in_title: "Sign in", "サインイン";
    sign_in_intro: "Sign in to manage your organizations' API keys.", "サインインして組織の API キーを管理します。";
    email: "Email", "メールアドレス";
    password: "Password", "パスワード";
    sign_in_button: "Sign in", "サインイン";
    sign_in_failed: "Sign-in failed. Check your email and password; after several failed attempts, wait a few minutes before trying again.", "サインインできませんでした。メールアドレスとパスワードを確認してください。何度も失敗した場合は、数分待ってからもう一度お試しください。";
    sign_in_expired: "Your session has ended. Sign in again to continue.", "セッションが終了しました。続けるには、もう一度サインインしてください。";
    signed_out: "You have signed out.", "サインアウトしました。";
    // Organization selection
    orgs_title: "Choose an organization", "組織を選択";
    orgs_intro: "Organizations you administer.", "あなたが管理している組織です。";
    orgs_search: "Search organizations", "組織を検索";
    search: "Search", "検索";
    clear: "Clear", "クリア";
    active_keys_count: "{n} active API keys", "有効な API キー {n} 件";
    no_orgs_title: "No organizations to manage", "管理できる組織がありません";
    no_orgs_message: "You are signed in, but you are not an admin of any organization. Ask an admin of your organization to make you one.", "サインインしていますが、どの組織の管理者でもありません。組織の管理者に管理者権限の付与を依頼してください。";
    no_orgs_match: "No organization matches your search.", "検索に一致する組織はありません。";
    // Creating a key
    create_api_key: "Create API key", "API キーを作成";
    create_scoped_title: "Create API key with scopes", "スコープを持つ API キーを作成";
    create_unscoped_title: "Create API key without scopes", "スコープのない API キーを作成";
    api_keys_with_scopes: "API keys with scopes", "スコープを持つ API キー";
    api_keys_without_scopes: "API keys without scopes", "スコープのない API キー";
    choose_kind: "Choose the kind of key to create.", "作成するキーの種類を選択してください。";
    scoped_explained: "Recommended. The key can call only the APIs of the scopes you choose.", "推奨。選択したスコープの API だけを呼び出せるキーです。";
    unscoped_explained: "The key can call every admin API of this organization.", "この組織のすべての管理 API を呼び出せるキーです。";
    steps: "Steps", "手順";
    step_details: "Details", "詳細";
    step_review: "Review", "確認";
    step_copy: "Copy the key", "キーをコピー";
    unscoped_warning_title: "This key can access everything.", "このキーはすべてにアクセスできます。";
    unscoped_warning: "An API key without scopes can call every admin API of this organization: read and change users, policies and API keys. Prefer a key with scopes that allow only what your script needs.", "スコープのない API キーは、この組織のすべての管理 API (ユーザー、ポリシー、API キーの参照と変更) を呼び出せます。スクリプトに必要な操作だけを許可する、スコープを持つキーをお勧めします。";
    key_details: "Key details", "キーの詳細";
    key_name: "Name", "名前";
    key_name_hint: "1 to 100 characters, so you can tell your keys apart.", "キーを見分けられるよう、1 ～ 100 文字で入力してください。";
    key_name_required: "Enter a name for the key.", "キーの名前を入力してください。";
    key_name_too_long: "Use at most 100 characters.", "100 文字以内で入力してください。";
    key_name_control: "Remove control characters from the name.", "名前から制御文字を削除してください。";
    expiry: "Expiry", "有効期限";
    days_n: "{n} days", "{n} 日";
    expires_on: "expires {date}", "{date} に期限切れ";
    expiry_pick_date: "On a date", "日付を指定";
    expiry_date_label: "Expiry date", "有効期限日";
    expiry_date_hint: "The key works through that whole day in your time zone ({zone}) and stops at its end, at most one year from now; on the last allowed day it stops at that limit.", "キーはその日の終わりまで（あなたのタイムゾーン {zone} で）有効です。指定できるのは今から 1 年以内で、最終日を選ぶとその上限の時刻に無効になります。";
    expiry_clamped: "The day you chose ends after the longest this key may live, so it expires at that limit instead.", "選択した日の終わりは、このキーの有効期間の上限を過ぎるため、キーはその上限の時刻に無効になります。";
    expiry_choose: "Choose an expiry.", "有効期限を選択してください。";
    expiry_date_unreadable: "Enter a date such as 2027-01-31.", "2027-01-31 のような形式で日付を入力してください。";
    expiry_in_past: "Choose today or a later date.", "今日以降の日付を選択してください。";
    expiry_too_far: "A key can live at most one year.", "キーの有効期間は最長 1 年です。";
    expiry_beyond_policy: "This organization's key lifetime policy allows new keys at most {n} days.", "この組織のキー有効期間ポリシーでは、新しいキーの有効期間は最長 {n} 日です。";
    expiry_policy_note: "This organization's key lifetime policy allows new keys at most {n} days.", "この組織のキー有効期間ポリシーでは、新しいキーの有効期間は最長 {n} 日です。";
    scopes: "Scopes", "スコープ";
    scopes_hint: "Choose what the key may do. Each scope lists the endpoints it unlocks.", "キーに許可する操作を選択します。各スコープで呼び出せるエンドポイントも確認できます。";
    scopes_required: "Choose at least one scope.", "スコープを 1 つ以上選択してください。";
    form_has_errors: "Check what you entered", "入力内容を確認してください";
    scope_unknown: "{scope} is not a scope keyward knows.", "{scope} は keyward のスコープではありません。";
    unlocks_n_endpoints: "Unlocks {n} endpoints", "{n} 個のエンドポイントを利用可能";
    review: "Review", "確認";
    cancel: "Cancel", "キャンセル";
    actions: "Actions", "操作";
    review_title: "Review your API key", "API キーの確認";
    kind: "Kind", "種類";
    expires: "Expires", "有効期限";
    create: "Create", "作成";
    edit: "Edit", "編集";
    review_expired: "This review has expired. Check the details and review them again; nothing was created.", "この確認画面は期限切れです。内容を確認して、もう一度確認に進んでください。キーは作成されていません。";
    created_title: "Your API key is ready", "API キーを作成しました";
    copy_now: "Copy the key now and store it somewhere safe.", "今すぐキーをコピーして、安全な場所に保管してください。";
    cannot_recover: "You can't recover this key later: keyward stores only a hash of it.", "このキーを後で確認することはできません。keyward にはキーのハッシュしか保存されません。";
    public_id: "Public ID", "公開 ID";
    org_id: "Organization ID", "組織 ID";
    key_value: "API key", "API キー";
    copy: "Copy", "コピー";
    copied: "Copied", "コピーしました";
    created_scoped_next: "Scripts send it as Authorization: Bearer with the organization ID in the path of each admin API call.", "スクリプトは、このキーを Authorization: Bearer ヘッダーで送り、各管理 API のパスに組織 ID を指定します。";
    created_unscoped_next: "Scripts send it as Authorization: Bearer with the organization ID in the path of each admin API call. Revoke it as soon as it is no longer needed.", "スクリプトは、このキーを Authorization: Bearer ヘッダーで送り、各管理 API のパスに組織 ID を指定します。不要になったらすぐに取り消してください。";
    done: "Done", "完了";
    view_key: "View key details", "キーの詳細を表示";
    form_used_title: "This form was already used", "このフォームは使用済みです";
    form_used_message: "The key was created when this form was first submitted, and its value was shown only then. Nothing new was created. If you did not copy the value, revoke that key and create a new one.", "このフォームが最初に送信されたときにキーが作成され、その値はそのときにだけ表示されました。新しいキーは作成されていません。値をコピーしていない場合は、そのキーを取り消して新しいキーを作成してください。";
    // The keys list, a key's detail, revoking and the leaked-key finder
    keys_intro: "Scripts call the admin APIs of this organization with these keys. Revoking one takes effect at once.", "スクリプトはこれらのキーでこの組織の管理 API を呼び出します。キーの取り消しはすぐに有効になります。";
    key_revoked_notice: "The API key {id} was revoked. It no longer works anywhere.", "API キー {id} を取り消しました。このキーはもうどこでも使用できません。";
    keys_search: "Search by name or public ID", "名前または公開 ID で検索";
    status: "Status", "状態";
    any_status: "Any status", "すべての状態";
    status_active: "Active", "有効";
    status_expired: "Expired", "期限切れ";
    status_revoked: "Revoked", "取り消し済み";
    created_by: "Created by", "作成者";
    anyone: "Anyone", "すべての作成者";
    sort_by: "Sort by", "並べ替え";
    sort_created: "Newest first", "作成日 (新しい順)";
    sort_expires: "Expiring soonest", "有効期限 (近い順)";
    sort_last_used: "Recently used", "最終使用 (新しい順)";
    apply: "Apply", "適用";
    no_scoped_keys: "No API keys with scopes yet", "スコープを持つ API キーはまだありません";
    no_unscoped_keys: "No API keys without scopes yet", "スコープのない API キーはまだありません";
    no_keys_match: "No API key matches these filters.", "この条件に一致する API キーはありません。";
    created: "Created", "作成日";
    last_used: "Last used", "最終使用";
    expires_soon: "Expires soon", "まもなく期限切れ";
    never_used: "Never used", "未使用";
    last_used_from: "from {ip}", "{ip} から";
    created_by_key_for: "An API key of {name}", "{name} の API キー";
    created_by_key: "An API key", "API キー";
    created_by_keyward: "keyward", "keyward";
    pages: "Pages", "ページ";
    first_page: "First page", "最初のページ";
    next_page: "Next page", "次のページ";
    leaked_title: "Found a leaked key?", "漏洩したキーを見つけましたか?";
    leaked_intro: "Paste the key value to find which key it is, on either tab, and revoke it. Only its public ID is used to look it up; the value is not stored or logged.", "キーの値を貼り付けると、どちらのタブのキーかを見つけて取り消せます。検索には公開 ID だけが使われ、値は保存もログ出力もされません。";
    leaked_field: "Key value", "キーの値";
    leaked_find: "Find key", "キーを検索";
    leaked_unreadable: "This is not a keyward API key value. Paste the whole value, starting with kw_.", "keyward の API キーの値ではありません。kw_ で始まる値全体を貼り付けてください。";
    leaked_not_found: "No API key of this organization has this value.", "この組織には、この値の API キーはありません。";
    leaked_found_title: "This is the key", "該当するキー";
    revoke: "Revoke", "取り消し";
    revoke_title: "Revoke API key", "API キーの取り消し";
    revoke_permanent: "Revocation is permanent: a revoked key can never be used again.", "取り消しは元に戻せません。取り消したキーは二度と使用できません。";
    revoke_at_once: "It takes effect at once, on every keyward instance: scripts using this key are refused from their next request.", "取り消しはすべての keyward インスタンスですぐに有効になり、このキーを使うスクリプトは次のリクエストから拒否されます。";
    already_revoked: "This key is already revoked.", "このキーはすでに取り消されています。";
    revoked_at: "Revoked", "取り消し日時";
    can_call: "What it can call", "呼び出せる API";
    any_key_endpoints: "Any key of the organization", "組織のすべてのキー";
    lifecycle: "Lifecycle", "ライフサイクル";
    no_events: "No events recorded for this key yet.", "このキーのイベントはまだ記録されていません。";
    event_time: "Time", "日時";
    event_what: "Event", "イベント";
    event_who: "By", "実行者";
    event_address: "Address", "アドレス";
    event_key_created: "Created", "作成";
    event_key_revoked: "Revoked", "取り消し";
    event_refused_revoked: "Use refused: the key is revoked", "使用を拒否: 取り消し済みのキー";
    event_refused_expired: "Use refused: the key has expired", "使用を拒否: 期限切れのキー";
    event_refused_address: "Use refused: address not in the allowlist", "使用を拒否: 許可リストにないアドレス";
    event_refused: "Use refused", "使用を拒否";
    event_other: "Other event", "その他のイベント";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_weighted_language_we_speak() {
        assert_eq!(Lang::negotiate(None), Lang::En);
        assert_eq!(Lang::negotiate(Some("ja")), Lang::Ja);
        assert_eq!(Lang::negotiate(Some("ja-JP,ja;q=0.9,en;q=0.8")), Lang::Ja);
        assert_eq!(Lang::negotiate(Some("fr-FR, en;q=0.5, ja;q=0.7")), Lang::Ja);
        assert_eq!(Lang::negotiate(Some("fr, de")), Lang::En);
        assert_eq!(Lang::negotiate(Some("ja;q=0, en")), Lang::En);
    }

    #[test]
    fn placeholders_are_filled_by_name() {
        assert_eq!(fill(EN.active_keys_count, &[("n", "3")]), "3 active API keys");
        assert_eq!(fill(JA.signed_in_as, &[("name", "山田")]), "山田 としてサインイン中");
    }
}
