//! Messages of the members pages (`/o/{orgId}/settings/members`), one-step offboarding, bulk
//! revocation, and the set-password pages (`/welcome`). Invitations have their own catalog.

super::catalog! {
    members_title: "Members", "メンバー";
    members_intro: "The people of this organization. Admins sign in to this console and answer for the API keys they create.", "この組織のメンバーです。管理者はこのコンソールにサインインし、作成した API キーに責任を持ちます。";
    search_members: "Search by name or email", "名前またはメールアドレスで検索";
    any_role: "Any role", "すべてのロール";
    role: "Role", "ロール";
    role_admin: "Admin", "管理者";
    role_member: "Member", "メンバー";
    member_status: "Status", "ステータス";
    status_suspended: "Suspended", "停止中";
    status_disabled: "Account disabled", "アカウント無効";
    last_sign_in: "Last sign-in", "最終サインイン";
    never_signed_in: "Never", "なし";
    active_keys: "Active keys", "有効なキー";
    joined: "Joined", "参加日";
    no_members_match: "No member matches these filters.", "条件に一致するメンバーはいません。";

    role_admin_hint: "Signs in to this console, manages API keys and members.", "このコンソールにサインインし、API キーとメンバーを管理します。";
    role_member_hint: "Belongs to the organization, without access to this console.", "組織に所属しますが、このコンソールにはアクセスできません。";
    already_member: "This person is already a member of this organization.", "この人はすでにこの組織のメンバーです。";
    role_invalid: "Choose a role.", "ロールを選択してください。";

    link_title: "Set-password link", "パスワード設定リンク";
    link_intro: "Give this link to {name}. It works once, until {time}: they choose their password there, then sign in.", "このリンクを {name} に渡してください。{time} まで 1 回だけ使えます。本人がそこでパスワードを決めてからサインインします。";
    link_once: "This is the only time keyward shows this link. It is not stored and cannot be shown again; you can issue a new one from the member's page.", "keyward がこのリンクを表示するのはこの 1 回だけです。保存されないため再表示できません。メンバーのページから新しいリンクを発行できます。";
    link_label: "Link", "リンク";
    to_member: "Go to the member's page", "メンバーのページへ";

    member_facts: "Membership", "メンバーシップ";
    managed_by_this_org: "Account managed by this organization", "この組織が管理するアカウント";
    managed_elsewhere: "This organization does not manage the account: an account is managed by the organization that verified its email's domain, and only that organization (or the operator, with keyward admin reset-password) can reset its password.", "この組織はこのアカウントを管理していません。アカウントはメールアドレスのドメインを検証した組織が管理し、パスワードをリセットできるのはその組織 (または keyward admin reset-password を使う運用者) だけです。";
    own_account: "This is your own account: change your password on your account page, with your current password.", "これはあなた自身のアカウントです。パスワードはアカウント ページで、現在のパスワードを入力して変更してください。";
    to_account_page: "Your account", "アカウント";
    link_disabled: "The account is disabled: enable it before it can be given a new password.", "アカウントが無効です。新しいパスワードを設定する前にアカウントを有効にしてください。";
    yes: "Yes", "はい";
    no: "No", "いいえ";
    keys_answered_for: "Active API keys they answer for", "責任を持つ有効な API キー";
    keys_answered_for_intro: "Keys they created, and keys created through the API with their keys.", "本人が作成したキーと、本人のキーを使って API で作成されたキーです。";
    no_active_keys: "None.", "ありません。";
    revoke_all_their_keys: "Revoke every active key of {name}", "{name} の有効なキーをすべて取り消す";
    make_admin: "Make admin", "管理者にする";
    make_member: "Make member", "メンバーに変更";
    suspend: "Suspend", "停止";
    restore: "Restore access", "アクセスを復元";
    remove: "Remove from organization", "組織から削除";
    new_link: "Issue a new set-password link", "新しいパスワード設定リンクを発行";
    new_link_hint: "For a member who lost theirs or forgot their password. Their earlier links stop working.", "リンクをなくした、またはパスワードを忘れたメンバー向けです。以前のリンクは使えなくなります。";
    events_of_member: "Changes to this member in the audit log", "監査ログでこのメンバーへの変更を見る";
    actions_of_member: "What they did, in the audit log", "監査ログでこのメンバーの操作を見る";
    restored_notice: "Access restored.", "アクセスを復元しました。";
    role_changed_notice: "Role changed.", "ロールを変更しました。";
    last_admin_note: "{name} is the last admin of this organization: they cannot be removed, made a member or suspended until someone else is an admin.", "{name} はこの組織の最後の管理者です。ほかの人が管理者になるまで、削除、メンバーへの変更、停止はできません。";

    remove_title: "Remove {name}?", "{name} を削除しますか?";
    suspend_title: "Suspend {name}?", "{name} を停止しますか?";
    demote_title: "Make {name} a member?", "{name} をメンバーに変更しますか?";
    remove_explained: "{name} loses access to this organization at once: their next request to its pages is refused. Their other organizations are not affected.", "{name} はただちにこの組織へのアクセスを失い、次のリクエストから組織のページは拒否されます。ほかの組織には影響しません。";
    suspend_explained: "{name} cannot open this organization's pages from their next request on, until you restore their access. Their other organizations are not affected.", "{name} は次のリクエストから、アクセスを復元するまでこの組織のページを開けません。ほかの組織には影響しません。";
    demote_explained: "{name} stays in the organization but can no longer open this console for it.", "{name} は組織に残りますが、この組織のコンソールは開けなくなります。";
    keys_will_be_revoked: "A removed member answers for no key: these keys are revoked in the same step.", "削除されたメンバーはキーに責任を持てないため、これらのキーも同時に取り消されます。";
    revoke_these_too: "Revoke these keys too", "これらのキーも取り消す";
    revoke_these_hint: "Scripts that use them are refused from their next request.", "これらのキーを使うスクリプトは、次のリクエストから拒否されます。";
    kept_keys_hint: "Kept keys can still read and do what their scopes allow, but cannot create keys, change people or change policies while this person is not an active admin.", "残したキーは引き続き読み取りとスコープで許可された操作ができますが、この人が有効な管理者でない間は、キーの作成、メンバーの変更、ポリシーの変更はできません。";
    last_admin_refused: "{name} is the last admin of this organization. Make someone else an admin first.", "{name} はこの組織の最後の管理者です。先にほかの人を管理者にしてください。";
    confirm_remove: "Remove", "削除";
    confirm_suspend: "Suspend", "停止";
    confirm_demote: "Make member", "メンバーに変更";

    removed_title: "{name} was removed", "{name} を削除しました";
    suspended_title: "{name} was suspended", "{name} を停止しました";
    demoted_title: "{name} is now a member", "{name} をメンバーに変更しました";
    already_done: "Nothing changed: it was already so.", "すでにその状態だったため、変更はありません。";
    revoked_keys_heading: "Revoked keys", "取り消したキー";
    revoked_none: "No key was revoked.", "取り消したキーはありません。";
    back_to_members: "Back to members", "メンバー一覧に戻る";

    bulk_title: "Revoke every active key of {name}?", "{name} の有効なキーをすべて取り消しますか?";
    bulk_explained: "Every key {name} answers for that is still unrevoked when you confirm is revoked at once, including any created in the meantime.", "確定した時点でまだ取り消されていない、{name} が責任を持つすべてのキーがただちに取り消されます。この間に作成されたキーも含みます。";
    bulk_none: "{name} answers for no active key.", "{name} が責任を持つ有効なキーはありません。";
    bulk_confirm: "Revoke all", "すべて取り消す";
    bulk_done_title: "Keys of {name} revoked", "{name} のキーを取り消しました";

    key_in_audit_log: "Every event of this key in the audit log", "監査ログでこのキーのすべてのイベントを見る";
    children_heading: "Keys created with this key", "このキーで作成されたキー";
    children_none: "No key was created through the API with this key.", "このキーを使って API で作成されたキーはありません。";
    revoke_children_too: "Also revoke the {n} active keys made with this key (through the API, directly or by keys made with it)", "このキーで作成された有効なキー {n} 件 (API で直接、またはそのキーで作成されたもの) も取り消す";
    children_revoked: "The {n} keys made with it were revoked too.", "このキーで作成されたキー {n} 件もあわせて取り消しました。";

    welcome_title: "Set your password", "パスワードを設定";
    welcome_intro: "Choose the password for {email}. Then sign in with it.", "{email} のパスワードを決めてください。その後、そのパスワードでサインインします。";
    welcome_unusable: "This link cannot be used: it was used already, replaced by a newer one, or it expired. Ask an admin of your organization for a new one.", "このリンクは使えません。使用済みか、新しいリンクに置き換えられたか、期限切れです。組織の管理者に新しいリンクを依頼してください。";
    welcome_submit: "Set password", "パスワードを設定";
    welcome_done_title: "Your password is set", "パスワードを設定しました";
    welcome_done: "Sign in with your email address and your new password.", "メールアドレスと新しいパスワードでサインインしてください。";
    go_sign_in: "Sign in", "サインイン";
}
