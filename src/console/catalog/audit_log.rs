//! Messages of the org's audit log page and its downloads (`/o/{orgId}/settings/audit-log`),
//! the name of every audit action, and the forgotten-keys notice of the keys list and the
//! selection screen.

use crate::domain::Action;

super::catalog! {
    audit_log_title: "Audit log", "監査ログ";
    intro: "Everything that happened in this organization, newest first: who did what, to what, when and from where.", "この組織で発生したすべてのイベントを新しい順に表示します。誰が、いつ、どこから、何に対して何をしたかを確認できます。";
    // Filters
    filters: "Filter events", "イベントを絞り込む";
    action: "Action", "アクション";
    any_action: "Any action", "すべてのアクション";
    actor: "Actor", "実行者";
    anyone: "Anyone", "すべての実行者";
    any_api_key: "Any API key", "すべての API キー";
    keyward_itself: "keyward", "keyward";
    from_date: "From", "開始日";
    to_date: "To", "終了日";
    dates_hint: "Whole days, in {zone}.", "{zone} の日単位です。";
    date_unreadable: "Enter a date such as 2026-12-31.", "2026-12-31 のような形式で日付を入力してください。";
    from_after_to: "The start date must not be after the end date.", "開始日は終了日より後にできません。";
    action_unknown: "Choose an action from the list.", "一覧からアクションを選択してください。";
    actor_unknown: "Choose an actor from the list.", "一覧から実行者を選択してください。";
    target_unreadable: "This link names no target keyward can show. Show all events instead.", "このリンクの対象は表示できません。すべてのイベントを表示してください。";
    filters_invalid: "Correct the filters to see events.", "イベントを表示するには、絞り込み条件を修正してください。";
    clear_filters: "Show all events", "すべてのイベントを表示";
    only_target: "Only the events of {target}.", "{target} のイベントのみを表示しています。";
    only_forgotten: "Only uses of revoked or expired API keys.", "取り消し済みまたは期限切れの API キーの使用のみを表示しています。";
    remove_filter: "Remove this filter", "この条件を解除";
    // The table
    events_caption: "Events of this organization", "この組織のイベント";
    time: "Time", "日時";
    target: "Target", "対象";
    address: "Address", "アドレス";
    user_agent: "User agent", "ユーザー エージェント";
    details: "Details", "詳細";
    no_events: "No events recorded yet.", "イベントはまだ記録されていません。";
    no_events_match: "No event matches these filters.", "この条件に一致するイベントはありません。";
    api_key_named: "API key {name}", "API キー {name}";
    deleted_api_key: "API key (no longer in this organization)", "API キー (この組織にはありません)";
    unknown_person: "A person no longer known", "不明なユーザー";
    the_organization: "This organization", "この組織";
    // Details
    reason: "Reason", "理由";
    reason_revoked: "the key is revoked", "取り消し済みのキー";
    reason_expired: "the key has expired", "期限切れのキー";
    reason_address_not_allowed: "address not in the allowlist", "許可リストにないアドレス";
    secret_not_proven: "without the key's secret", "キーのシークレットなし";
    revoked_keys: "Keys revoked", "取り消したキー";
    // Downloads
    download: "Download", "ダウンロード";
    download_csv: "CSV", "CSV";
    download_jsonl: "JSON Lines", "JSON Lines";
    download_note: "Downloads hold the events these filters select, newest first, at most {n} of them: narrow the dates for more. Spreadsheet formulas in cells are disarmed with a leading apostrophe.", "ダウンロードには、この条件で選択されたイベントが新しい順に最大 {n} 件含まれます。それ以上は日付で絞り込んでください。セル内のスプレッドシートの数式は、先頭にアポストロフィを付けて無効化しています。";
    // Forgotten keys
    forgotten_title: "Forgotten keys", "使われ続けている古いキー";
    forgotten_notice: "Revoked or expired API keys presented in the last 30 days: {keys} (distinct addresses: {addresses}). An integration may still be using an old key.", "過去 30 日間に使用された取り消し済みまたは期限切れの API キー: {keys} 件 (アドレス {addresses} 個)。古いキーを使い続けている連携があるかもしれません。";
    forgotten_short: "Revoked or expired keys presented in the last 30 days: {keys} (distinct addresses: {addresses})", "過去 30 日間に使用された取り消し済みまたは期限切れのキー: {keys} 件 (アドレス {addresses} 個)";
    forgotten_see: "See these events", "これらのイベントを表示";
    // Action names
    org_created: "Organization created", "組織を作成";
    user_created: "User created", "ユーザーを作成";
    user_disabled: "User account disabled", "ユーザー アカウントを無効化";
    user_enabled: "User account enabled", "ユーザー アカウントを有効化";
    user_email_changed: "User email changed", "ユーザーのメールアドレスを変更";
    user_profile_updated: "User profile updated", "ユーザー プロフィールを更新";
    user_signed_in: "Signed in to the console", "コンソールにサインイン";
    password_link_issued: "Set-password link issued", "パスワード設定リンクを発行";
    password_set: "Password set with a link", "リンクからパスワードを設定";
    password_changed: "Password changed", "パスワードを変更";
    other_sessions_ended: "Signed out everywhere else", "他のすべての場所からサインアウト";
    member_added: "Member added", "メンバーを追加";
    admin_granted: "Organization admin added", "組織管理者を追加";
    membership_suspended: "Member access suspended", "メンバーのアクセスを一時停止";
    membership_restored: "Member access restored", "メンバーのアクセスを復元";
    membership_role_changed: "Member role changed", "メンバーのロールを変更";
    membership_removed: "Member removed", "メンバーを削除";
    api_key_created: "API key created", "API キーを作成";
    api_key_revoked: "API key revoked", "API キーを取り消し";
    api_key_rejected_use: "API key use refused", "API キーの使用を拒否";
    domain_added: "Domain added", "ドメインを追加";
    domain_verified: "Domain verified", "ドメインを検証";
    domain_removed: "Domain removed", "ドメインを削除";
    policy_created: "Policy created", "ポリシーを作成";
    policy_updated: "Policy updated", "ポリシーを更新";
    policy_deleted: "Policy deleted", "ポリシーを削除";
    classification_level_created: "Classification level created", "分類レベルを作成";
    classification_level_updated: "Classification level edited", "分類レベルを編集";
    classification_level_published: "Classification level published", "分類レベルを公開";
    classification_level_archived: "Classification level archived", "分類レベルをアーカイブ";
    classification_level_restored: "Classification level restored to draft", "分類レベルを下書きに戻す";
    classification_levels_reordered: "Classification levels reordered", "分類レベルを並べ替え";
    invitation_sent: "Invitation sent", "招待を送信";
    invitation_reissued: "Invitation link issued again", "招待リンクを再発行";
    invitation_revoked: "Invitation revoked", "招待を取り消し";
    invitation_accepted: "Invitation accepted", "招待を承諾";
    invitation_target: "Invitation", "招待";
}

impl Messages {
    /// What an action is called in this language (the compiler checks every action has one).
    pub fn action(&self, action: Action) -> &'static str {
        match action {
            Action::OrgCreated => self.org_created,
            Action::UserCreated => self.user_created,
            Action::UserDisabled => self.user_disabled,
            Action::UserEnabled => self.user_enabled,
            Action::UserEmailChanged => self.user_email_changed,
            Action::UserProfileUpdated => self.user_profile_updated,
            Action::UserSignedIn => self.user_signed_in,
            Action::PasswordLinkIssued => self.password_link_issued,
            Action::PasswordSet => self.password_set,
            Action::PasswordChanged => self.password_changed,
            Action::OtherSessionsEnded => self.other_sessions_ended,
            Action::MemberAdded => self.member_added,
            Action::InvitationSent => self.invitation_sent,
            Action::InvitationReissued => self.invitation_reissued,
            Action::InvitationRevoked => self.invitation_revoked,
            Action::InvitationAccepted => self.invitation_accepted,
            Action::AdminGranted => self.admin_granted,
            Action::MembershipSuspended => self.membership_suspended,
            Action::MembershipRestored => self.membership_restored,
            Action::MembershipRoleChanged => self.membership_role_changed,
            Action::MembershipRemoved => self.membership_removed,
            Action::ApiKeyCreated => self.api_key_created,
            Action::ApiKeyRevoked => self.api_key_revoked,
            Action::ApiKeyRejectedUse => self.api_key_rejected_use,
            Action::DomainAdded => self.domain_added,
            Action::DomainVerified => self.domain_verified,
            Action::DomainRemoved => self.domain_removed,
            Action::PolicyCreated => self.policy_created,
            Action::PolicyUpdated => self.policy_updated,
            Action::PolicyDeleted => self.policy_deleted,
            Action::ClassificationLevelCreated => self.classification_level_created,
            Action::ClassificationLevelUpdated => self.classification_level_updated,
            Action::ClassificationLevelPublished => self.classification_level_published,
            Action::ClassificationLevelArchived => self.classification_level_archived,
            Action::ClassificationLevelRestored => self.classification_level_restored,
            Action::ClassificationLevelsReordered => self.classification_levels_reordered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_name_in_each_language_and_english_matches_the_catalog() {
        for &action in Action::ALL {
            assert_eq!(EN.action(action), action.display_name(), "{action}");
            assert!(!JA.action(action).is_empty(), "{action}");
        }
    }
}
