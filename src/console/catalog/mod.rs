//! The console's message catalog, English and Japanese. A typed catalog checked by the compiler
//! rather than Fluent files: every message is a field, written once with both languages side by
//! side, so a message missing in either language is a build error, a misspelt message name in a
//! template is a build error (askama compiles templates), and nothing is looked up by string at
//! run time. Messages with values take them through `{name}` placeholders filled by `fill`.
//! The admin API's own texts (scope descriptions, endpoint summaries) are in `api`.

pub mod api;

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

    pub fn scope_description(self, scope: Scope) -> &'static str {
        match self {
            Lang::En => scope.description(),
            Lang::Ja => api::scope_description_ja(scope),
        }
    }

    pub fn scope_family(self, scope: Scope) -> &'static str {
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

macro_rules! catalog {
    ($($name:ident: $en:literal, $ja:literal;)+) => {
        /// Every message of the console, in one language.
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
    };
}

catalog! {
    // Layout
    skip_to_content: "Skip to content", "コンテンツにスキップ";
    product_tagline: "API keys for your organizations", "組織の API キー管理";
    signed_in_as: "Signed in as {name}", "{name} としてサインイン中";
    sign_out: "Sign out", "サインアウト";
    language: "Language", "言語";
    switch_language: "Change language", "言語を変更";
    current_org: "Organization", "組織";
    switch_org: "Switch organization", "組織を切り替え";
    settings: "Settings", "設定";
    api_keys: "API keys", "API キー";
    times_in_utc: "Times are shown in UTC.", "時刻は UTC で表示しています。";
    utc: "UTC", "UTC";
    date_format: "%b %-d, %Y", "%Y年%-m月%-d日";
    date_time_format: "%b %-d, %Y %H:%M", "%Y年%-m月%-d日 %H:%M";
    // Errors
    not_found_heading: "Page not found", "ページが見つかりません";
    not_found_message: "There is nothing at this address, or you do not have access to it.", "このアドレスには何もないか、アクセス権がありません。";
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

    #[test]
    fn both_languages_fill_the_same_placeholders() {
        let placeholders = |text: &str| {
            let mut names: Vec<String> = text
                .split('{')
                .skip(1)
                .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
                .collect();
            names.sort();
            names
        };
        for ((name, en), (_, ja)) in EN.all().into_iter().zip(JA.all()) {
            assert_eq!(placeholders(en), placeholders(ja), "message {name}");
        }
    }
}
