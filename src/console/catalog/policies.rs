//! Messages of the org's policies page (`/o/{orgId}/settings/policies`), its forms and its
//! delete confirmation.

super::catalog! {
    // The page
    policies_title: "Policies", "ポリシー";
    policies_intro: "Rules for this organization's API keys: where they may be used from, and how long new keys may live. A change applies at once on every keyward instance.", "この組織の API キーに適用するルールです。キーを使用できる接続元と、新しいキーの最長有効期間を設定します。変更はすべての keyward インスタンスですぐに適用されます。";
    notice_created: "The policy was created. It applies at once on every keyward instance.", "ポリシーを作成しました。すべての keyward インスタンスですぐに適用されます。";
    notice_updated: "The policy was saved. The change applies at once on every keyward instance.", "ポリシーを保存しました。変更はすべての keyward インスタンスですぐに適用されます。";
    notice_enabled: "The policy was enabled. It applies at once on every keyward instance.", "ポリシーを有効にしました。すべての keyward インスタンスですぐに適用されます。";
    notice_disabled: "The policy was disabled. It no longer applies on any keyward instance.", "ポリシーを無効にしました。どの keyward インスタンスでも適用されなくなりました。";
    notice_deleted: "The policy was deleted.", "ポリシーを削除しました。";
    status_enabled: "Enabled", "有効";
    status_disabled: "Disabled", "無効";
    last_changed: "Last changed", "最終変更";
    changed_by: "{when} by {who}", "{when} ({who})";
    changed_by_key: "API key {name}", "API キー {name}";
    changed_by_deleted_key: "an API key", "API キー";
    changed_by_deleted_user: "a former user", "以前のユーザー";
    changed_by_keyward: "keyward (command line)", "keyward (コマンド ライン)";
    enable: "Enable", "有効にする";
    disable: "Disable", "無効にする";
    delete: "Delete", "削除";
    all_policies: "All policies", "すべてのポリシー";
    // The IP allowlist
    allowlist_heading: "IP allowlist", "IP 許可リスト";
    allowlist_intro: "While an allowlist is enabled, this organization's API keys are accepted only from the addresses it lists. With several enabled, an address in any of them is accepted.", "IP 許可リストが有効な間、この組織の API キーはリストにあるアドレスからのリクエストだけが受け付けられます。複数有効な場合は、いずれかのリストに含まれるアドレスが受け付けられます。";
    allowlist_console_note: "The allowlist applies to API keys only, never to this console: you can always sign in here and change or disable a list, even one that shuts out every caller.", "IP 許可リストが適用されるのは API キーだけで、このコンソールには適用されません。すべての呼び出し元を締め出すリストであっても、いつでもここにサインインして変更または無効化できます。";
    your_address: "Your address, as keyward sees it:", "keyward から見たあなたのアドレス:";
    your_address_unknown: "unknown", "不明";
    allowlist_in_effect: "API keys of this organization are accepted only from the addresses of the enabled allowlists.", "この組織の API キーは、有効な IP 許可リストにあるアドレスからのみ受け付けられます。";
    allowlist_none_enabled: "No allowlist is enabled: API keys of this organization are accepted from any address.", "有効な IP 許可リストはありません。この組織の API キーはどのアドレスからでも受け付けられます。";
    excludes_you_title: "Your current address is outside the enabled allowlists.", "現在のアドレスは有効な IP 許可リストに含まれていません。";
    excludes_you: "API keys used from {ip}, where you are now, are refused. This console is not affected, so you can change the lists here at any time.", "現在のアドレス {ip} から使用される API キーは拒否されます。このコンソールには影響しないため、いつでもここでリストを変更できます。";
    not_your_address: "Your address is not in this list", "あなたのアドレスは含まれていません";
    no_allowlists: "This organization has no IP allowlist.", "この組織には IP 許可リストがありません。";
    create_allowlist: "Create IP allowlist", "IP 許可リストを作成";
    ranges: "Addresses and ranges", "アドレスと範囲";
    ranges_count: "{n} addresses and ranges", "アドレスと範囲 {n} 件";
    // The key lifetime
    lifetime_heading: "API key lifetime", "API キーの有効期間";
    lifetime_intro: "New API keys of this organization live at most this many days, whether they are created here, through the admin API or on the command line. Existing keys keep their expiry. With several enabled, the shortest applies.", "この組織の新しい API キーの有効期間を、この日数までに制限します。ここで作成する場合も、管理 API やコマンド ラインで作成する場合も同じです。既存のキーの有効期限は変わりません。複数有効な場合は、最も短いものが適用されます。";
    lifetime_in_effect: "New API keys of this organization live at most {n} days.", "この組織の新しい API キーの有効期間は最長 {n} 日です。";
    lifetime_none_enabled: "No lifetime policy is enabled: new API keys may live up to 365 days.", "有効な有効期間ポリシーはありません。新しい API キーの有効期間は最長 365 日です。";
    no_lifetimes: "This organization has no API key lifetime policy.", "この組織には API キーの有効期間ポリシーがありません。";
    create_lifetime: "Create lifetime policy", "有効期間ポリシーを作成";
    max_days: "Maximum lifetime", "最長有効期間";
    max_days_n: "{n} days", "{n} 日";
    // The forms
    new_allowlist_title: "Create IP allowlist", "IP 許可リストを作成";
    edit_allowlist_title: "Edit IP allowlist", "IP 許可リストを編集";
    new_lifetime_title: "Create API key lifetime policy", "API キーの有効期間ポリシーを作成";
    edit_lifetime_title: "Edit API key lifetime policy", "API キーの有効期間ポリシーを編集";
    policy_name: "Name", "名前";
    policy_name_hint: "1 to 100 characters, so you can tell your policies apart.", "ポリシーを見分けられるよう、1 ～ 100 文字で入力してください。";
    ranges_label: "Addresses and ranges, one per line", "アドレスと範囲 (1 行に 1 つ)";
    ranges_hint: "On each line an IP address (203.0.113.7, 2001:db8::1) or a CIDR range (203.0.113.0/24, 2001:db8::/32), at most {n}. Blank lines are ignored.", "各行に IP アドレス (203.0.113.7、2001:db8::1) または CIDR 範囲 (203.0.113.0/24、2001:db8::/32) を 1 つずつ、最大 {n} 個まで入力します。空行は無視されます。";
    form_excludes_you: "This list does not include your current address ({ip}): while it is enabled, API keys used from here are refused. The console is not affected, so you can change the list here at any time.", "このリストには現在のアドレス ({ip}) が含まれていません。リストが有効な間、ここから使用される API キーは拒否されます。コンソールには影響しないため、いつでもここでリストを変更できます。";
    max_days_label: "Maximum lifetime of new keys, in days", "新しいキーの最長有効期間 (日数)";
    max_days_hint: "A whole number from 1 to 365.", "1 ～ 365 の整数で入力します。";
    status_legend: "Status", "状態";
    enabled_label: "Enable this policy", "このポリシーを有効にする";
    enabled_hint: "A disabled policy is kept but not applied.", "無効にしたポリシーは保存されますが、適用されません。";
    save: "Save", "保存";
    // What is wrong with a form
    range_bad: "Line {line}: “{value}” is not an IP address or a CIDR range such as 203.0.113.0/24.", "{line} 行目: 「{value}」は IP アドレスでも、203.0.113.0/24 のような CIDR 範囲でもありません。";
    ranges_empty: "Enter at least one address or range. To accept API keys from every address, disable the policy instead.", "アドレスまたは範囲を 1 つ以上入力してください。すべてのアドレスから API キーを受け付けるには、代わりにポリシーを無効にしてください。";
    ranges_too_many: "An allowlist holds at most {n} addresses and ranges.", "IP 許可リストに入力できるアドレスと範囲は最大 {n} 個です。";
    days_bad: "Enter a whole number of days from 1 to 365.", "1 ～ 365 の整数で日数を入力してください。";
    // Deleting
    delete_title: "Delete policy", "ポリシーの削除";
    delete_permanent: "Deleting a policy cannot be undone.", "ポリシーの削除は元に戻せません。";
    delete_at_once: "It stops applying at once on every keyward instance. To stop applying it but keep it, disable it instead.", "すべての keyward インスタンスで直ちに適用されなくなります。ポリシーを残したまま適用だけを止めるには、代わりに無効にしてください。";
}
