//! Messages of your account (`/account`): profile, language, time zone, password and sessions.

super::catalog! {
    account_title: "Your account", "アカウント";
    account_intro: "Your own settings, signed in as {email}. They apply in every organization.", "{email} としてサインインしているあなた自身の設定です。すべての組織に適用されます。";
    // The layout's footer, in the viewer's time zone
    times_shown_in: "Times are shown in {zone}.", "時刻は {zone} で表示しています。";
    // Profile
    profile: "Profile", "プロフィール";
    display_name: "Name", "氏名";
    display_name_hint: "Shown in the header and in your organizations' audit logs. 1 to 100 characters.", "ヘッダーと組織の監査ログに表示されます。1 ～ 100 文字で入力してください。";
    save_name: "Save name", "氏名を保存";
    saved_profile: "Your name was saved.", "氏名を保存しました。";
    // Language
    language: "Language", "言語";
    language_hint: "The console's language, on every device you sign in on.", "サインインするすべてのデバイスで使用するコンソールの言語です。";
    save_language: "Save language", "言語を保存";
    language_unknown: "Choose one of the languages listed.", "一覧にある言語を選択してください。";
    saved_language: "Your language was saved.", "言語を保存しました。";
    // Time zone
    time_zone: "Time zone", "タイム ゾーン";
    time_zone_hint: "Dates and times on every page are shown in this time zone.", "すべてのページの日付と時刻をこのタイム ゾーンで表示します。";
    save_time_zone: "Save time zone", "タイム ゾーンを保存";
    time_zone_unknown: "Choose one of the time zones listed.", "一覧にあるタイム ゾーンを選択してください。";
    saved_time_zone: "Your time zone was saved.", "タイム ゾーンを保存しました。";
    // Password
    password: "Password", "パスワード";
    password_intro: "Changing your password signs you out everywhere else: every other browser has to sign in again with the new one.", "パスワードを変更すると、このブラウザー以外のすべてのセッションからサインアウトします。ほかのブラウザーでは新しいパスワードで再度サインインする必要があります。";
    current_password: "Current password", "現在のパスワード";
    new_password: "New password (at least 12 characters)", "新しいパスワード (12 文字以上)";
    repeat_password: "Repeat the new password", "新しいパスワード (確認)";
    change_password: "Change password", "パスワードを変更";
    current_password_required: "Enter your current password.", "現在のパスワードを入力してください。";
    current_password_wrong: "This is not your current password.", "現在のパスワードが正しくありません。";
    current_password_throttled: "Too many wrong passwords. Wait a few minutes, then try again.", "パスワードの誤りが多すぎます。数分待ってからもう一度お試しください。";
    saved_password: "Your password was changed. Every other session of yours has ended.", "パスワードを変更しました。このセッション以外のすべてのセッションは終了しました。";
    // Sessions
    sessions: "Where you are signed in", "サインイン中のセッション";
    sessions_intro: "Each browser signed in to keyward as you. Sign out any you do not recognize, and change your password.", "あなたとして keyward にサインインしているブラウザーです。心当たりのないものはサインアウトし、パスワードを変更してください。";
    session_browser: "Browser", "ブラウザー";
    session_address: "Address", "アドレス";
    session_signed_in: "Signed in", "サインイン日時";
    session_last_seen: "Last active", "最終アクティビティ";
    session_actions: "Actions", "操作";
    this_session: "This session", "このセッション";
    unknown_browser: "Unknown browser", "不明なブラウザー";
    unknown_address: "Unknown address", "不明なアドレス";
    sign_out_session: "Sign out", "サインアウト";
    sign_out_session_label: "Sign out the session signed in {when}", "{when} にサインインしたセッションからサインアウト";
    sign_out_others: "Sign out everywhere else", "ほかのすべてのセッションからサインアウト";
    no_other_sessions: "You are signed in nowhere else.", "ほかにサインイン中のセッションはありません。";
    ended_others: "You were signed out everywhere else.", "ほかのすべてのセッションからサインアウトしました。";
    ended_one: "That session was signed out.", "そのセッションからサインアウトしました。";
    form_has_errors: "Check what you entered", "入力内容を確認してください";
}
