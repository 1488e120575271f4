//! The Japanese texts of the admin API as the console shows it: each scope's family and
//! description, and each endpoint summary, keyed by the English of the scope catalog and the
//! endpoint table so the tests can hold the two sides together.

use crate::domain::Scope;

/// Builds, from one list of English → Japanese pairs, the lookup `match` and the slice of its
/// keys the tests check against the English sources.
macro_rules! catalog {
    ($(#[$doc:meta])* $lookup:ident, $keys:ident { $($english:literal => $japanese:literal,)+ }) => {
        $(#[$doc])*
        pub fn $lookup(english: &str) -> Option<&'static str> {
            match english {
                $($english => Some($japanese),)+
                _ => None,
            }
        }

        /// Every English text this lookup translates.
        pub const $keys: &[&str] = &[$($english,)+];
    };
}

/// The Japanese description of a scope, beside `Scope::description()`.
pub fn scope_description_ja(scope: Scope) -> &'static str {
    match scope {
        Scope::ReadOrgs => "組織を表示",
        Scope::ReadAccounts => "ユーザーとそのプロフィール、アクティビティを表示",
        Scope::WriteAccounts => "ユーザーの停止、復元、削除と、プロフィール、メールアドレス、ライフサイクルの変更",
        Scope::ReadDomains => "ドメインを表示",
        Scope::ReadEvents => "監査ログのイベントを表示",
        Scope::ReadPolicies => "ポリシーを表示",
        Scope::WritePolicies => "ポリシーを作成、更新",
        Scope::DeletePolicies => "ポリシーを削除",
        Scope::ReadDirectories => "ディレクトリを表示",
        Scope::ReadClassificationLevels => "分類レベルを表示",
        Scope::WriteClassificationLevels => "分類レベルを作成、編集、公開、アーカイブ、並べ替え",
        Scope::ReadKeys => "API キーを表示",
        Scope::WriteKeys => "API キーを作成",
        Scope::DeleteKeys => "API キーを取り消し",
    }
}

catalog! {
    /// The Japanese name of an API family, given its English name from `Scope::family()`.
    scope_family_ja, FAMILIES {
        "Organizations" => "組織",
        "User management" => "ユーザー管理",
        "Policies" => "ポリシー",
        "Directories" => "ディレクトリ",
        "Data classification" => "データ分類",
        "API keys" => "API キー",
    }
}

catalog! {
    /// The Japanese summary of an endpoint, given its English `summary` from the endpoint table.
    endpoint_summary_ja, SUMMARIES {
        "This document: the admin API in OpenAPI 3.1" => "このドキュメント（OpenAPI 3.1 形式の管理 API）",
        "Describe the calling API key" => "呼び出し元の API キーの情報を表示",
        "List the organizations the key can see (its own)" => "キーが参照できる組織（キー自身の組織）を一覧表示",
        "Get an organization" => "組織を取得",
        "List the organization's users, oldest membership first, in pages of at most 50" =>
            "組織のユーザーを、メンバーになった日の古い順に 1 ページ最大 50 件で一覧表示",
        "Search the organization's users" => "組織のユーザーを検索",
        "Search the organization's users (filters as query parameters)" =>
            "組織のユーザーを検索（フィルターはクエリパラメーターで指定）",
        "When a user joined the organization and last used its products" =>
            "ユーザーが組織に参加した日時と、組織の製品を最後に使用した日時",
        "Suspend a user's access to this organization (their other organizations and keys are untouched)" =>
            "ユーザーのこの組織へのアクセスを停止（そのユーザーのほかの組織と API キーには影響なし）",
        "Restore a suspended user's access to this organization" =>
            "停止中のユーザーのこの組織へのアクセスを復元",
        "Remove a user from the organization, revoking the API keys they answer for" =>
            "ユーザーを組織から削除（そのユーザーが責任者の API キーも取り消し）",
        "List the organization's directories (one per organization)" =>
            "組織のディレクトリを一覧表示（組織ごとに 1 つ）",
        "Count the users in a directory" => "ディレクトリ内のユーザー数を取得",
        "Search the users in a directory" => "ディレクトリ内のユーザーを検索",
        "Get a user of a directory" => "ディレクトリのユーザーを取得",
        "What the key's organization may do to a member's account" =>
            "キーの組織がメンバーのアカウントに対して実行できる操作",
        "Get a member's profile" => "メンバーのプロフィールを取得",
        "Change a managed account's profile" => "管理対象アカウントのプロフィールを変更",
        "Change a managed account's email, ending its console sessions" =>
            "管理対象アカウントのメールアドレスを変更（コンソールのセッションはすべて終了）",
        "Disable a managed account, ending its console sessions" =>
            "管理対象アカウントを無効化（コンソールのセッションはすべて終了）",
        "Enable a managed account again" => "管理対象アカウントを再び有効化",
        "Invite people to join the organization as members: each answer carries a one-time invitation link (invitationLink) to hand over, the same whether the address has an account or not" => "ユーザーをメンバーとして組織に招待 (回答には相手に渡す 1 回限りの招待リンク invitationLink が含まれ、アカウントの有無にかかわらず同じ形です)",
        "List the organization's audit events, newest first, in pages of at most 50 (the default; \
         more is a 400). from is inclusive, to exclusive, each epoch milliseconds or RFC 3339" =>
            "組織の監査ログのイベントを新しい順に、1 ページ最大 50 件（既定値。超えると 400）で一覧表示。\
             from はその時刻を含み、to は含まない。どちらもエポックミリ秒または RFC 3339 で指定",
        "Get an audit event" => "監査ログのイベントを取得",
        "Follow the organization's audit events in time order: oldest first unless sortOrder=desc, \
         pages of 50 by default and at most 500 (more is a 400); from is inclusive, to exclusive" =>
            "組織の監査ログのイベントを時系列で取得：sortOrder=desc でなければ古い順、1 ページ既定 50 件、\
             最大 500 件（超えると 400）。from はその時刻を含み、to は含まない",
        "List the actions audit events can have, with their display names and groups" =>
            "監査ログのイベントのアクションを、表示名とグループとともに一覧表示",
        "List the organization's API keys, newest first, filtered by text, status and expiry" =>
            "組織の API キーを新しい順に一覧表示（テキスト、ステータス、有効期限で絞り込み）",
        "Count the organization's API keys under the list's filters (a bare integer)" =>
            "一覧と同じフィルターで組織の API キーの数を取得（整数のみを返す）",
        "Create an API key; its token is in this answer only. Scopes absent or null make a key \
         without scopes, which only a key without scopes may create (403); scopes must be the \
         calling key's own or fewer (403); [] or an unknown scope is a 400. No expiresAt: 30 days, \
         cut to the org's key lifetime policy and to the calling key's expiry. A date keeps the \
         key working through that whole day in UTC; a day that a limit falls in ends at the limit \
         (expiryLimitedBy). Past 365 days, the policy or the calling key's expiry: 400" =>
            "API キーを作成。トークンはこの応答にのみ含まれます。scopes が未指定または null の場合はスコープなしの\
             キーになり、これを作成できるのはスコープなしのキーだけです（403）。スコープは呼び出し元のキーと同じか、\
             その一部である必要があります（403）。[] または不明なスコープは 400 です。expiresAt を省略すると \
             30 日後（組織のキー有効期間ポリシーと呼び出し元のキーの有効期限で短縮）になります。日付を指定すると、\
             キーはその日の終わり（UTC）まで有効です。上限がその日のうちに来る場合は上限の時刻に無効になり、\
             応答がその上限を示します。365 日、ポリシー、呼び出し元のキーの有効期限のいずれかを超える場合は 400 です",
        "Revoke an API key, at once on every instance (204, also when it was revoked before)" =>
            "API キーをすべてのインスタンスで即時に取り消し（取り消し済みの場合も 204）",
        "List the organization's policies, oldest first, optionally of one type" =>
            "組織のポリシーを古い順に一覧表示（種類で絞り込み可能）",
        "Create a policy: ip-allowlist (the organization's keys are refused from any other address, \
         on every instance at once) or api-key-lifetime (new keys live at most maxDays); any other \
         type is a 400" =>
            "ポリシーを作成：ip-allowlist（ほかのアドレスからの組織のキーの使用を、すべてのインスタンスで即時に拒否）\
             または api-key-lifetime（新しいキーの有効期間は最長 maxDays 日）。ほかの種類は 400",
        "Get a policy" => "ポリシーを取得",
        "Replace a policy's name, status, rule and resources (its type cannot change)" =>
            "ポリシーの名前、ステータス、ルール、リソースを置き換え（種類は変更不可）",
        "Delete a policy" => "ポリシーを削除",
        "List the domains the organization claims, oldest claim first, in pages of at most 100" =>
            "組織が申請したドメインを、申請の古い順に 1 ページ最大 100 件で一覧表示",
        "Get a domain the organization claims" => "組織が申請したドメインを取得",
        "List the organization's classification levels: published ones by rank (most sensitive first), \
         then drafts, then archived ones" =>
            "組織の分類レベルを一覧表示：公開済みのものをランク順（機密性の高い順）に、続いて下書き、\
             アーカイブ済みのもの",
        "Create a classification level, as a draft" => "分類レベルを下書きとして作成",
        "Get a classification level" => "分類レベルを取得",
        "Edit a draft classification level (a published or archived one is a 409)" =>
            "下書きの分類レベルを編集（公開済みまたはアーカイブ済みのものは 409）",
        "Publish draft classification levels, all or none, ranked after the published ones in the \
         order given" =>
            "下書きの分類レベルを一括で公開（すべて公開するか、1 つも公開しない）。指定した順に、公開済みのレベルの\
             後ろにランク付け",
        "Archive a published classification level; the levels ranked after it move up" =>
            "公開済みの分類レベルをアーカイブ（それより下のランクのレベルは繰り上がり）",
        "Restore an archived classification level as a draft" => "アーカイブ済みの分類レベルを下書きとして復元",
        "Rank the published classification levels in the order given (most sensitive first), naming \
         each exactly once" =>
            "公開済みの分類レベルを指定した順（機密性の高い順）にランク付け（各レベルを 1 回ずつ指定）",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kana and kanji: the characters a halfwidth space separates from Latin letters and digits.
    fn is_japanese(c: char) -> bool {
        matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}')
    }

    /// Every Japanese text of the catalog, with the English it translates.
    fn every_pair() -> Vec<(&'static str, &'static str)> {
        let scopes = Scope::ALL.iter().map(|&s| (s.description(), scope_description_ja(s)));
        let families = FAMILIES.iter().filter_map(|&f| Some((f, scope_family_ja(f)?)));
        let summaries = SUMMARIES.iter().filter_map(|&s| Some((s, endpoint_summary_ja(s)?)));
        scopes.chain(families).chain(summaries).collect()
    }

    #[test]
    fn every_scope_family_has_a_japanese_name() {
        for &scope in Scope::ALL {
            assert!(
                scope_family_ja(scope.family()).is_some(),
                "{scope}: no Japanese for {:?}",
                scope.family()
            );
        }
    }

    #[test]
    fn every_family_translated_is_in_the_scope_catalog() {
        for &family in FAMILIES {
            assert!(
                Scope::ALL.iter().any(|s| s.family() == family),
                "no scope is of the family {family:?}"
            );
        }
    }

    #[test]
    fn each_english_text_is_translated_once() {
        for keys in [FAMILIES, SUMMARIES] {
            let mut seen = std::collections::HashSet::new();
            for key in keys {
                assert!(seen.insert(key), "{key:?} twice");
            }
        }
    }

    #[test]
    fn every_text_is_japanese_and_differs_from_its_english() {
        let pairs = every_pair();
        assert_eq!(pairs.len(), Scope::ALL.len() + FAMILIES.len() + SUMMARIES.len());
        for (english, japanese) in pairs {
            assert_ne!(english, japanese);
            assert!(japanese.chars().any(is_japanese), "{japanese:?} is not Japanese");
        }
    }

    #[test]
    fn latin_words_are_set_off_from_japanese_by_a_halfwidth_space() {
        for (_, japanese) in every_pair() {
            let chars: Vec<char> = japanese.chars().collect();
            for pair in chars.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let latin_next_to_japanese =
                    (a.is_ascii_alphanumeric() && is_japanese(b)) || (is_japanese(a) && b.is_ascii_alphanumeric());
                assert!(
                    !latin_next_to_japanese,
                    "{japanese:?}: no space between {a:?} and {b:?}"
                );
            }
        }
    }
}
