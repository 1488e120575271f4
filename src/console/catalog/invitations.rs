//! Messages of invitations: inviting people and the pending invitations on the members pages
//! (`/o/{orgId}/settings/members`), and the page an invitation link opens (`/invitations`).

super::catalog! {
    // The members pages
    // A role inside a sentence ("… as {role}")
    as_admin: "an admin", "管理者";
    as_member: "a member", "メンバー";
    invite_people: "Invite people", "ユーザーを招待";
    invite_title: "Invite someone", "ユーザーを招待";
    invite_intro: "keyward makes a one-time invitation link for you to hand over. The person opens it, signs in to their account or creates one, and accepts: until then they have no access and are not counted as an admin.", "keyward が 1 回限りの招待リンクを作成するので、それを相手に渡してください。相手はリンクを開き、アカウントにサインインするか新しく作成して招待を承諾します。承諾するまではアクセスできず、管理者としても数えられません。";
    invite_same_answer: "You see the same answer whether or not the address already has a keyward account.", "そのメールアドレスに keyward のアカウントがあってもなくても、表示される結果は同じです。";
    invite_submit: "Create invitation", "招待を作成";
    invited_title: "Invitation link", "招待リンク";
    invited_intro: "Give this link to {email}. It works once, until {time}: they join this organization there as {role}.", "このリンクを {email} に渡してください。{time} まで 1 回だけ使えます。相手はそこから {role} としてこの組織に参加します。";
    invited_once: "This is the only time keyward shows this link. It is not stored and cannot be shown again; you can issue a new one from the pending invitations.", "keyward がこのリンクを表示するのはこの 1 回だけです。保存されないため再表示できません。保留中の招待から新しいリンクを発行できます。";
    invitations_heading: "Pending invitations", "保留中の招待";
    invitations_intro: "Invitations not yet accepted. A new link replaces the earlier one; a revoked invitation's link never works again.", "まだ承諾されていない招待です。新しいリンクを発行すると以前のリンクは使えなくなります。取り消した招待のリンクは二度と使えません。";
    no_invitations: "No invitation is pending.", "保留中の招待はありません。";
    invited_by: "Invited by", "招待した人";
    invited_by_key: "An API key", "API キー";
    expires: "Expires", "有効期限";
    state_pending: "Pending", "保留中";
    state_expired: "Expired", "期限切れ";
    new_invitation_link: "New link", "新しいリンク";
    revoke_invitation: "Revoke", "取り消し";
    revoke_invitation_of: "Revoke the invitation of {email}", "{email} への招待を取り消す";
    new_link_of: "New link for {email}", "{email} への新しいリンク";
    invitation_revoked_notice: "The invitation was revoked: its link no longer works.", "招待を取り消しました。そのリンクはもう使えません。";
    invitation_gone: "This invitation is no longer pending: it was accepted or revoked meanwhile.", "この招待はすでに保留中ではありません。その間に承諾されたか、取り消されました。";
    managed_column: "Managed account", "管理対象アカウント";
    // The page an invitation link opens
    join_title: "Join {org}", "{org} に参加";
    join_intro: "You are invited to join {org} as {role}, with the email address {email}.", "メールアドレス {email} で、{role} として {org} に招待されています。";
    existing_account: "An account with this email address exists: sign in as {email} to accept.", "このメールアドレスのアカウントがあります。承諾するには {email} としてサインインしてください。";
    sign_in_to_accept: "Sign in to accept", "サインインして承諾";
    not_yours: "Never made an account with this address? Someone else may have. Ask the operator of this keyward for a set-password link (keyward admin reset-password) before you accept.", "このメールアドレスでアカウントを作った覚えがない場合は、ほかの誰かが作成した可能性があります。承諾する前に、この keyward の運用者にパスワード設定リンク (keyward admin reset-password) を依頼してください。";
    accept: "Accept invitation", "招待を承諾";
    wrong_account: "You are signed in as {current}, but this invitation is for {email}. Sign out, then open this link again and sign in as {email}.", "現在 {current} としてサインインしていますが、この招待は {email} 宛てです。サインアウトしてからこのリンクをもう一度開き、{email} としてサインインしてください。";
    sign_out: "Sign out", "サインアウト";
    create_intro: "No account has this email address yet: create it here to accept. You will sign in with {email} and the password you choose.", "このメールアドレスのアカウントはまだありません。ここで作成して招待を承諾してください。以後は {email} と、ここで決めたパスワードでサインインします。";
    create_submit: "Create account and accept", "アカウントを作成して承諾";
    domain_managed_elsewhere: "No account has {email} yet, and another organization manages the accounts of its domain: that organization makes them. Ask it to invite you first, then open this link again.", "{email} のアカウントはまだありません。このドメインのアカウントは別の組織が管理しており、その組織が作成します。先にその組織から招待を受けてから、このリンクをもう一度開いてください。";
    account_exists_now: "An account with this email address was created meanwhile: sign in as {email} to accept.", "この間にこのメールアドレスのアカウントが作成されました。承諾するには {email} としてサインインしてください。";
    unknown: "This invitation link is not valid. Check that you copied all of it, or ask the person who invited you for a new one.", "この招待リンクは無効です。リンク全体をコピーしたか確認するか、招待した人に新しいリンクを依頼してください。";
    used: "This invitation was accepted already: it works once.", "この招待はすでに承諾されています。招待リンクは 1 回だけ使えます。";
    revoked: "This invitation was revoked by an admin of the organization.", "この招待は組織の管理者によって取り消されました。";
    expired: "This invitation has expired. Ask an admin of the organization for a new link.", "この招待は期限切れです。組織の管理者に新しいリンクを依頼してください。";
    withdrawn: "This invitation is no longer valid: whoever sent it can no longer invite people to this organization. Ask one of its admins for a new one.", "この招待はもう無効です。送信した人がこの組織にユーザーを招待できなくなりました。組織の管理者に新しい招待を依頼してください。";
    joined_title: "Welcome to {org}", "{org} へようこそ";
    joined_admin: "You are now an admin of {org}.", "{org} の管理者になりました。";
    joined_member: "You are now a member of {org}. Members do not use this console; its admins manage the organization here.", "{org} のメンバーになりました。メンバーはこのコンソールを使いません。組織の管理は管理者がここで行います。";
    open_org: "Open {org}", "{org} を開く";
    continue_to_console: "Continue", "続ける";
}

impl Messages {
    /// The role as a sentence names it: "… as an admin".
    pub fn as_role(&self, role: crate::domain::member::Role) -> &'static str {
        match role {
            crate::domain::member::Role::Admin => self.as_admin,
            crate::domain::member::Role::Member => self.as_member,
        }
    }
}
