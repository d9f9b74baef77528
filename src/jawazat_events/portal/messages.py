"""The portal's ONE bilingual message catalogue: every word a page shows, in Arabic and in English.

Templates never hold words of their own: they call `t("key")` (a test checks that every key a template
uses is here in both languages, and that templates carry no text outside these calls). Event, visa and
direction words come from the alerts' vocabulary (`subscribers/vocabulary.py`), so a border crossing is
called the same in an SMS and on a page.

Other parts add their entries with `register({...})` at import time (see docs/portal.md, "Adding a page").
"""

from __future__ import annotations

from typing import Literal

from markupsafe import Markup

from jawazat_events.subscribers.vocabulary import DIRECTIONS, EVENT_LABELS, VISA_STATUSES, VISA_TYPES

Language = Literal["ar", "en"]
LANGUAGES: tuple[Language, ...] = ("ar", "en")
DEFAULT_LANGUAGE: Language = "ar"

_ENTRIES: dict[str, tuple[str, str]] = {
    # --- frame -----------------------------------------------------------------------------------
    "app.name": ("بوابة إشعارات الجوازات", "Jawazat notifications portal"),
    "app.skip": ("تخطَّ إلى المحتوى", "Skip to main content"),
    "app.footer": (
        "خدمة إشعارات المنشآت من المديرية العامة للجوازات",
        "Establishment notifications, a service of the General Directorate of Passports",
    ),
    "lang.other": ("English", "العربية"),
    "lang.switch": ("اعرض هذه الصفحة بالإنجليزية", "Show this page in Arabic"),
    "lang.ar": ("العربية", "العربية (Arabic)"),
    "lang.en": ("English (الإنجليزية)", "English"),
    "nav.label": ("القائمة الرئيسية", "Main menu"),
    "nav.dashboard": ("نظرة عامة", "Overview"),
    "nav.subscriptions": ("الاشتراكات", "Subscriptions"),
    "nav.alerts": ("الإشعارات", "Alerts"),
    "nav.contacts": ("جهات الاتصال", "Contacts"),
    "nav.keys": ("مفتاح الربط البرمجي", "API key"),
    "nav.users": ("المستخدمون", "Users"),
    "nav.audit": ("التدقيق", "Audit"),
    "nav.audit_people": ("سجل شخص", "Person timeline"),
    "nav.audit_establishments": ("اشتراكات منشأة", "Establishment subscriptions"),
    "nav.audit_integrity": ("سلامة السجل", "Record integrity"),
    "auth.signed_in_as": ("مسجّل الدخول: {name}", "Signed in: {name}"),
    "auth.sign_out": ("تسجيل الخروج", "Sign out"),
    "common.save": ("احفظ", "Save"),
    "common.show": ("اعرض", "Show"),
    "common.none": ("—", "—"),
    "common.list_sep": ("، ", ", "),
    "common.defaults": ("جهات الاتصال الافتراضية", "Default contacts"),
    "common.keep_hint": ("اتركه فارغاً للإبقاء على القيمة الحالية", "Leave empty to keep the current value"),
    "common.optional": ("(اختياري)", "(optional)"),
    "common.error_summary": ("يوجد خطأ في النموذج", "There is a problem"),
    # --- sign-in ---------------------------------------------------------------------------------
    "login.title": ("تسجيل الدخول", "Sign in"),
    "login.lead": (
        "أدخل بريدك الإلكتروني المسجّل في البوابة وسنرسل إليك رمز دخول من 6 أرقام.",
        "Enter the e-mail address registered for the portal and we will send you a 6-digit sign-in code.",
    ),
    "login.email_label": ("البريد الإلكتروني", "E-mail address"),
    "login.email_hint": (
        "إن لم يكن لك بريد مسجّل فاكتب رقم جوالك، وسيصلك الرمز برسالة نصية.",
        "If you have no registered e-mail address, type your mobile number: the code comes by SMS.",
    ),
    "login.send": ("أرسل رمز الدخول", "Send the sign-in code"),
    "login.code_title": ("أدخل رمز الدخول", "Enter your sign-in code"),
    "login.code_sent": (
        "إن كان {login} مسجّلاً في البوابة فقد أرسلنا إليه رمزاً من 6 أرقام. "
        "الرمز صالح لمدة 10 دقائق، ويمكن تجربته 5 مرات.",
        "If {login} is registered for the portal, we have sent it a 6-digit code. "
        "The code lasts 10 minutes and may be tried 5 times.",
    ),
    "login.code_label": ("رمز الدخول", "Sign-in code"),
    "login.code_hint": ("6 أرقام، كما وصلتك", "6 digits, as you received them"),
    "login.submit": ("دخول", "Sign in"),
    "login.new_code": ("لم يصلك الرمز؟ اطلب رمزاً جديداً", "No code? Ask for a new one"),
    "login.signed_out": ("تم تسجيل خروجك.", "You have signed out."),
    "login.signed_out_title": ("تم تسجيل الخروج", "Signed out"),
    "login.again": ("سجّل الدخول مرة أخرى", "Sign in again"),
    "login.code_refused": (
        "لم يُقبل الرمز: قد يكون خاطئاً أو انتهت صلاحيته أو جُرّب 5 مرات. تحقّق منه وأعد المحاولة، "
        "أو اطلب رمزاً جديداً.",
        "That code did not work: it is wrong, has expired, or was tried 5 times. Check it and try again, "
        "or ask for a new code.",
    ),
    "login.code_format": ("أدخل الرمز المكوّن من 6 أرقام", "Enter the 6-digit code"),
    "login.email_invalid": (
        "أدخل بريداً إلكترونياً صحيحاً مثل name@example.sa، أو رقم جوال صحيحاً",
        "Enter a valid e-mail address, like name@example.sa, or a valid mobile number",
    ),
    "login.challenge_gone": (
        "انتهت محاولة الدخول هذه. اطلب رمزاً جديداً.",
        "This sign-in attempt has ended. Ask for a new code.",
    ),
    # --- error pages -----------------------------------------------------------------------------
    "error.not_found.title": ("غير موجود", "Not found"),
    "error.not_found.body": (
        "لم نجد ما طلبته. إن كان رقم هوية، فقد لا يكون بين من ترعاهم منشأتك أو لا اشتراك له.",
        "We could not find what you asked for. If it is an ID number, it may not be one your "
        "establishment sponsors, or it has no subscription.",
    ),
    "error.forbidden.title": ("انتهت صلاحية النموذج", "The form has expired"),
    "error.forbidden.body": (
        "وصل النموذج دون رمز الحماية أو برمز قديم. ارجع إلى الصفحة وأرسله من جديد.",
        "The form arrived without its security token, or with an old one. Go back to the page and send it "
        "again.",
    ),
    "error.conflict.title": ("تغيّر السجل للتو", "The record just changed"),
    "error.conflict.body": (
        "غيّر طلبٌ آخر السجل نفسه قبل طلبك. أعد المحاولة.",
        "Another request changed the same record first. Try again.",
    ),
    "error.unavailable.title": ("الخدمة غير متاحة مؤقتاً", "The service is unavailable for a moment"),
    "error.unavailable.body": (
        "تعذّر الوصول إلى قاعدة البيانات. أعد المحاولة بعد قليل.",
        "The store could not be reached. Try again in a moment.",
    ),
    "error.internal.title": ("حدث خطأ غير متوقع", "Something went wrong"),
    "error.internal.body": (
        "لم يكتمل طلبك ولم يُحفظ منه شيء. أعد المحاولة، وإن تكرر الخطأ فأبلغ الدعم برقم الطلب {request_id}.",
        "Your request did not complete and nothing of it was saved. Try again; if it happens again, tell "
        "support the request number {request_id}.",
    ),
    "error.bad_request.title": ("الطلب غير صالح", "The request is not valid"),
    "error.bad_request.body": (
        "عنوان الصفحة أو النموذج يحمل قيمة لا نفهمها. ارجع إلى الصفحة السابقة.",
        "The page address or the form carries a value we cannot read. Go back to the previous page.",
    ),
    "error.too_many.title": ("محاولات كثيرة", "Too many attempts"),
    "error.too_many.body": (
        "وصلتنا محاولات دخول كثيرة من شبكتك. انتظر {seconds} ثانية ثم أعد المحاولة.",
        "Too many sign-in attempts came from your network. Wait {seconds} seconds and try again.",
    ),
    "error.back_home": ("العودة إلى الصفحة الرئيسية", "Back to the overview"),
    # --- field errors ----------------------------------------------------------------------------
    "field.id_number.required": ("أدخل رقم الهوية", "Enter the ID number"),
    "field.id_number.digits": ("يتكوّن رقم الهوية من 10 أرقام", "An ID number is exactly 10 digits"),
    "field.id_number.first_digit": (
        "يبدأ رقم الهوية بـ 1 (مواطن) أو 2 (مقيم) أو 3 أو 4 (زائر)",
        "An ID number starts with 1 (citizen), 2 (resident) or 3 or 4 (visitor)",
    ),
    "field.id_number.check_digit": (
        "رقم الهوية غير صحيح: رقم التحقق الأخير لا يطابق",
        "This ID number is not valid: its last (check) digit does not match",
    ),
    "field.id_number.not_sponsored": (
        "لم نجد هذا الرقم بين من ترعاهم منشأتك",
        "This ID number is not among the people your establishment sponsors",
    ),
    "field.id_number.already": ("لهذا الرقم اشتراك قائم", "This ID number is already subscribed"),
    "field.notification_types.required": (
        "اختر نوع إشعار واحداً على الأقل",
        "Choose at least one notification type",
    ),
    "field.notification_types.unknown": (
        "نوع إشعار غير معروف؛ الأنواع: entry_exit وpassport_expiry وpassport_renewal وvisa",
        "Unknown notification type; the types are entry_exit, passport_expiry, passport_renewal, visa",
    ),
    "field.mobile.invalid": (
        "رقم الجوال غير صحيح (مثال: 0501234567)",
        "The mobile number is not valid (for example 0501234567)",
    ),
    "field.email.invalid": (
        "البريد الإلكتروني غير صحيح (مثال: hr@example.sa)",
        "The e-mail address is not valid (for example hr@example.sa)",
    ),
    "field.contact.required": (
        "أدخل جوالاً أو بريداً إلكترونياً: ليس للمنشأة جهات اتصال افتراضية",
        "Enter a mobile or an e-mail address: the establishment has no default contacts",
    ),
    "field.file.required": ("اختر ملف CSV", "Choose a CSV file"),
    "field.file.not_csv": (
        "الملف ليس ملفاً نصياً بصيغة CSV وترميز UTF-8",
        "The file is not a CSV text file in UTF-8",
    ),
    "field.file.too_many": (
        "في الملف أكثر من {limit} سطر؛ قسّمه إلى ملفات أصغر",
        "The file has more than {limit} lines; split it into smaller files",
    ),
    "field.file.empty": ("الملف لا يحتوي على أي سطر", "The file has no lines"),
    "field.line.columns": (
        "عدد الأعمدة غير صحيح؛ المتوقع: id_number,notification_types,mobile,email",
        "Wrong number of columns; expected id_number,notification_types,mobile,email",
    ),
    "field.name.invalid": ("الاسم أطول من 200 حرف", "The name is longer than 200 characters"),
    "field.language.invalid": ("اختر العربية أو الإنجليزية", "Choose Arabic or English"),
    "field.at.invalid": (
        "أدخل تاريخاً ووقتاً صحيحين، مثل 2026-07-01T09:00",
        "Enter a valid date and time, like 2026-07-01T09:00",
    ),
    "field.date.invalid": ("أدخل تاريخاً صحيحاً، مثل 2026-07-01", "Enter a valid date, like 2026-07-01"),
    "field.unified.invalid": (
        "الرقم الموحد 10 أرقام تبدأ بـ 7",
        "A unified number is 10 digits starting with 7",
    ),
    "field.unified.unknown": (
        "لا توجد منشأة مسجّلة بهذا الرقم",
        "No establishment is registered with this number",
    ),
    "field.user.exists": (
        "يوجد مستخدم يدخل البوابة بهذا البريد",
        "A portal user already signs in with this address",
    ),
    "field.q.invalid": ("ابحث بأرقام من رقم الهوية فقط", "Search with digits of an ID number only"),
    "field.generic": ("القيمة غير صحيحة", "This value is not valid"),
    "field.webhook_url.required": ("أدخل عنوان الويب هوك", "Enter the webhook URL"),
    "field.webhook_url.invalid": (
        "أدخل عنواناً صحيحاً يبدأ بـ https:// (حتى 2048 حرفاً، بلا مسافات ولا #)",
        "Enter a valid address starting with https:// (up to 2,048 characters, no spaces or #)",
    ),
    "field.webhook_url.https": (
        "يجب أن يبدأ العنوان بـ https://",
        "The address must start with https://",
    ),
    "field.webhook_url.private": (
        "هذا العنوان داخلي أو خاص: نرسل الويب هوك إلى عناوين عامة على الإنترنت فقط",
        "This is an internal or private address: webhooks only go to public internet addresses",
    ),
    "field.webhook_url.credentials": (
        "لا تضع اسم مستخدم أو كلمة مرور في العنوان؛ ضع رمزاً في المسار بدلاً منها",
        "Do not put a user name or password in the address; put a token in its path instead",
    ),
    "field.quiet_hours.invalid": (
        "أدخل ساعتي البداية والنهاية بصيغة 24 ساعة، مثل 22:00 و07:00، ومختلفتين",
        "Enter a start and an end time on the 24-hour clock, such as 22:00 and 07:00, and not the same",
    ),
    "field.urgent_types.invalid": (
        "اختر من أنواع الإشعارات المعروضة",
        "Choose among the notification types shown",
    ),
    "field.digest_types.invalid": (
        "الملخص اليومي متاح لتنبيهات انتهاء الجوازات فقط",
        "The daily digest is for passport-expiry warnings only",
    ),
    # --- notification types, statuses, channels, outcomes -----------------------------------------
    "type.entry_exit": ("الدخول والمغادرة", "Entry and exit"),
    "type.passport_expiry": ("انتهاء صلاحية الجواز", "Passport expiry"),
    "type.passport_renewal": ("تجديد الجواز", "Passport renewal"),
    "type.visa": ("التأشيرات", "Visas"),
    "status.pending": ("بانتظار الإرسال", "Waiting to be sent"),
    "status.sent": (
        "أُرسل: قبله خادم البريد أو مزوّد الرسائل",
        "Sent: the mail server or the SMS provider accepted it",
    ),
    "status.delivered": ("وصل: أكّد المزوّد وصوله إلى الجوال", "Delivered: the provider confirmed it arrived"),
    "status.retrying": (
        "لم يُرسل بعد: نعيد المحاولة تلقائياً",
        "Not sent yet: we are trying again by ourselves",
    ),
    "status.failed": ("تعذّر الإرسال نهائياً", "Failed: it cannot be delivered"),
    "status.failed.mobile": ("تعذّر الإرسال: رقم الجوال غير صالح", "Failed: the mobile number is not valid"),
    "status.failed.email": (
        "تعذّر الإرسال: رفض خادم البريد العنوان",
        "Failed: the mail server refused the address",
    ),
    "status.sent.webhook": (
        "أُرسل: أكّد نظامكم استلامه",
        "Sent: your system confirmed it received it",
    ),
    "status.failed.webhook": (
        "تعذّر الإرسال: رفض عنوان الويب هوك الرسالة أو أُوقف",
        "Failed: your webhook endpoint refused it, or the endpoint was disabled",
    ),
    "status.held": (
        "مؤجَّل حتى {until} (ساعات الهدوء)",
        "Held until {until} (quiet hours)",
    ),
    "status.dead_letter": ("توقفنا عن المحاولة بعد محاولات عديدة", "Gave up after repeated attempts"),
    "status.unknown": ("حالة غير معروفة", "Unknown status"),
    "status_short.pending": ("بانتظار الإرسال", "Pending"),
    "status_short.sent": ("أُرسل", "Sent"),
    "status_short.delivered": ("وصل", "Delivered"),
    "status_short.retrying": ("إعادة محاولة", "Retrying"),
    "status_short.failed": ("تعذّر", "Failed"),
    "status_short.dead_letter": ("متوقف", "Gave up"),
    "next.nothing": ("لا يلزم أي إجراء.", "Nothing to do."),
    "next.wait": (
        "لا يلزم إجراء الآن: تتباعد المحاولات تدريجياً (30 ثانية ثم أطول). إن طال الأمر فتحقّق من جهة الاتصال.",
        "Nothing to do now: attempts are spaced out (30 seconds, then longer). If it goes on, check the "
        "contact details.",
    ),
    "next.fix_mobile": (
        "صحّح رقم الجوال في صفحة جهات الاتصال أو في الاشتراك.",
        "Correct the mobile number in Contacts, or on the subscription.",
    ),
    "next.fix_email": (
        "صحّح البريد الإلكتروني في صفحة جهات الاتصال أو في الاشتراك.",
        "Correct the e-mail address in Contacts, or on the subscription.",
    ),
    "next.held": (
        "لا يلزم أي إجراء: تُرسل الرسالة النصية تلقائياً عند انتهاء ساعات الهدوء "
        "التي حددتموها في صفحة جهات الاتصال.",
        "Nothing to do: the SMS goes out by itself when the quiet hours you set in Contacts end.",
    ),
    "next.fix_webhook": (
        "أصلحوا نظامكم المستقبِل، ثم أعيدوا حفظ عنوان الويب هوك في صفحة جهات الاتصال لتُستأنف الإشعارات.",
        "Fix your receiving system, then save the webhook URL again in Contacts to resume the alerts.",
    ),
    "next.check_contact": (
        "تحقّق من جهة الاتصال في صفحة جهات الاتصال أو في الاشتراك؛ الإشعارات القادمة تُرسل من جديد.",
        "Check the contact details in Contacts or on the subscription; later alerts are sent afresh.",
    ),
    "channel.sms": ("رسالة نصية", "SMS"),
    "channel.email": ("بريد إلكتروني", "E-mail"),
    "channel.webhook": ("ويب هوك (Webhook)", "Webhook"),
    "attempt.sent": ("أُرسل", "sent"),
    "attempt.retry": ("سيُعاد", "will retry"),
    "attempt.failed": ("تعذّر", "failed"),
    "attempt.dead_letter": ("توقّف", "gave up"),
    "attempt.unknown": ("غير مؤكد", "uncertain"),
    "attempt.held": ("مؤجَّل لساعات الهدوء", "held for quiet hours"),
    "attempt.delivered": ("وصل", "delivered"),
    "outcome.accepted": ("مقبول", "Accepted"),
    "outcome.already_subscribed": ("مشترك مسبقاً", "Already subscribed"),
    "outcome.not_sponsored": ("غير مكفول أو غير معروف", "Not sponsored or unknown"),
    "outcome.invalid": ("غير صالح", "Invalid"),
    # --- dashboard -------------------------------------------------------------------------------
    "dashboard.title": ("نظرة عامة", "Overview"),
    "dashboard.total": ("الاشتراكات النشطة", "Active subscriptions"),
    "dashboard.by_type": ("الاشتراكات حسب نوع الإشعار", "Subscriptions by notification type"),
    "dashboard.week": ("الإشعارات في آخر 7 أيام حسب الحالة", "Alerts in the last 7 days, by status"),
    "dashboard.week_none": ("لا توجد إشعارات في آخر 7 أيام.", "No alerts in the last 7 days."),
    "dashboard.action": ("إشعارات تحتاج إلى إجراء", "Alerts that need action"),
    "dashboard.action_none": (
        "لا توجد إشعارات متعثّرة: لا يلزم أي إجراء.",
        "No failed alerts: nothing to do.",
    ),
    "dashboard.see_alerts": ("اعرض كل الإشعارات", "See all alerts"),
    # --- subscriptions ---------------------------------------------------------------------------
    "subs.title": ("الاشتراكات", "Subscriptions"),
    "subs.search_label": ("ابحث برقم الهوية", "Search by ID number"),
    "subs.search_hint": ("الرقم كاملاً أو أرقامه الأولى", "The whole number or its first digits"),
    "subs.search": ("ابحث", "Search"),
    "subs.count": ("{count} اشتراك", "{count} subscriptions"),
    "subs.none": ("لا توجد اشتراكات مطابقة.", "No subscriptions match."),
    "subs.col.id": ("رقم الهوية", "ID number"),
    "subs.col.types": ("أنواع الإشعارات", "Notification types"),
    "subs.col.mobile": ("الجوال", "Mobile"),
    "subs.col.email": ("البريد الإلكتروني", "E-mail"),
    "subs.col.since": ("منذ", "Since"),
    "pager.label": ("صفحات النتائج", "Result pages"),
    "pager.first": ("الأولى", "First"),
    "pager.prev": ("السابقة", "Previous"),
    "pager.next": ("التالية", "Next"),
    "pager.last": ("الأخيرة", "Last"),
    "subs.add_title": ("إضافة اشتراك", "Add a subscription"),
    "subs.id_label": ("رقم الهوية", "ID number"),
    "subs.id_hint": (
        "10 أرقام: هوية مواطن أو إقامة أو رقم حدود لزائر، لشخص ترعاه منشأتك",
        "10 digits: a citizen ID, an iqama or a visitor's border number, of someone your establishment "
        "sponsors",
    ),
    "subs.types_label": ("أنواع الإشعارات", "Notification types"),
    "subs.mobile_label": ("الجوال", "Mobile"),
    "subs.email_label": ("البريد الإلكتروني", "E-mail"),
    "subs.contacts_hint": (
        "اتركهما فارغين لتصل الإشعارات إلى جهات الاتصال الافتراضية للمنشأة",
        "Leave both empty to send alerts to the establishment's default contacts",
    ),
    "subs.add": ("أضف الاشتراك", "Add the subscription"),
    "subs.added": ("تمت إضافة الاشتراك لرقم الهوية {id}.", "Subscription added for ID number {id}."),
    "subs.upload_title": ("إضافة اشتراكات كثيرة بملف CSV", "Add many subscriptions from a CSV file"),
    "subs.upload_hint": (
        "أول سطر: id_number,notification_types,mobile,email — الأنواع مفصولة بفاصلة منقوطة (;)، "
        "والجوال والبريد اختياريان. حتى {limit} سطر في الملف.",
        "First line: id_number,notification_types,mobile,email — types separated by semicolons (;), "
        "mobile and e-mail optional. Up to {limit} lines a file.",
    ),
    "subs.file_label": ("ملف CSV", "CSV file"),
    "subs.upload": ("ارفع الملف", "Upload the file"),
    "subs.results_title": (
        "نتيجة الملف: قُبل {accepted} من {total}",
        "File results: {accepted} of {total} accepted",
    ),
    "subs.col.line": ("السطر", "Line"),
    "subs.col.outcome": ("النتيجة", "Outcome"),
    "subs.col.reason": ("السبب", "Reason"),
    "subs.download": ("نزّل النتائج بصيغة CSV", "Download the results as CSV"),
    "sub.title": ("اشتراك رقم الهوية {id}", "Subscription for ID number {id}"),
    "sub.change_title": ("تغيير الاشتراك", "Change the subscription"),
    "sub.change": ("احفظ التغييرات", "Save the changes"),
    "sub.changed": ("تم حفظ التغييرات.", "Changes saved."),
    "sub.unsubscribe_title": ("إلغاء الاشتراك", "Unsubscribe"),
    "sub.unsubscribe_hint": (
        "بعد الإلغاء لن تصلك إشعارات عن الأحداث التي تُسجَّل لاحقاً لهذا الشخص.",
        "After unsubscribing you get no alerts about events recorded later for this person.",
    ),
    "sub.unsubscribe": ("ألغِ الاشتراك", "Unsubscribe"),
    "sub.confirm_title": ("تأكيد إلغاء الاشتراك", "Confirm unsubscribing"),
    "sub.confirm_body": (
        "هل تريد إلغاء الاشتراك لرقم الهوية {id}؟ لن تصلك إشعارات عن الأحداث التي تُسجَّل بعد الإلغاء.",
        "Do you want to unsubscribe from ID number {id}? You will get no alerts about events recorded "
        "after this.",
    ),
    "sub.confirm": ("نعم، ألغِ الاشتراك", "Yes, unsubscribe"),
    "sub.cancel": ("لا، ارجع", "No, go back"),
    "sub.unsubscribed": ("تم إلغاء الاشتراك لرقم الهوية {id}.", "Unsubscribed from ID number {id}."),
    "sub.alerts_link": ("إشعارات هذا الشخص", "Alerts about this person"),
    # --- alerts ----------------------------------------------------------------------------------
    "alerts.title": ("الإشعارات", "Alerts"),
    "alerts.filter": ("صفِّ", "Filter"),
    "alerts.clear": ("امسح التصفية", "Clear the filters"),
    "alerts.status_label": ("الحالة", "Status"),
    "alerts.type_label": ("نوع الإشعار", "Notification type"),
    "alerts.id_label": ("رقم الهوية", "ID number"),
    "alerts.since_label": ("من تاريخ", "From"),
    "alerts.until_label": ("حتى تاريخ (شاملاً)", "Until (inclusive)"),
    "alerts.any": ("الكل", "Any"),
    "alerts.export": ("صدّر بصيغة CSV", "Export as CSV"),
    "alerts.print": ("اطبع", "Print"),
    "alerts.none": ("لا توجد إشعارات مطابقة.", "No alerts match."),
    "alerts.col.created": ("التاريخ", "Date"),
    "alerts.col.event": ("الحدث", "Event"),
    "alerts.col.id": ("رقم الهوية", "ID number"),
    "alerts.col.channel": ("القناة والمستلم", "Channel and recipient"),
    "alerts.col.status": ("الحالة", "Status"),
    "alerts.col.next": ("ما العمل", "What to do"),
    "alerts.col.attempts": ("المحاولات", "Attempts"),
    "alerts.older": ("إشعارات أقدم", "Older alerts"),
    "alerts.newest": ("الأحدث", "Newest"),
    # --- contacts --------------------------------------------------------------------------------
    "contacts.title": ("جهات الاتصال وقنوات التسليم", "Contacts and delivery"),
    "contacts.lead": (
        "تصل إليها إشعارات الاشتراكات التي ليس لها جوال أو بريد خاص بها.",
        "Alerts of subscriptions without a mobile or e-mail of their own go here.",
    ),
    "contacts.language_label": ("لغة الرسائل", "Language of the messages"),
    "contacts.saved": ("تم حفظ جهات الاتصال.", "Contacts saved."),
    "contacts.defaults_title": ("الجوال والبريد ولغة الرسائل", "Mobile, e-mail and language"),
    "contacts.webhook_title": ("الويب هوك: الإشعارات إلى أنظمتكم", "Webhook: alerts to your own systems"),
    "contacts.webhook_lead": (
        "نرسل كل إشعار أيضاً إلى هذا العنوان بصيغة JSON موقّعة (معيار Standard Webhooks)، إضافة إلى الرسائل "
        "النصية والبريد.",
        "Every alert also goes to this address as signed JSON (the Standard Webhooks specification), besides "
        "the SMS and e-mails.",
    ),
    "contacts.webhook_current": ("العنوان الحالي", "Current address"),
    "contacts.webhook_state": ("الحالة", "State"),
    "contacts.webhook_on": ("يعمل", "Working"),
    "contacts.webhook_off": (
        "موقوف: رفض العنوان الإشعارات أو تعذّر الوصول إليه لأيام. أعيدوا حفظه بعد إصلاحه.",
        "Disabled: it refused the alerts or could not be reached for days. Save it again once it works.",
    ),
    "contacts.webhook_url_label": ("عنوان الويب هوك", "Webhook URL"),
    "contacts.webhook_url_hint": (
        "عنوان يبدأ بـ https:// على نظامكم، مثل https://hr.example.sa/hooks/jawazat",
        "An https:// address on your system, such as https://hr.example.sa/hooks/jawazat",
    ),
    "contacts.full_id_label": (
        "أرسلوا رقم الهوية كاملاً في الويب هوك (يُخفى افتراضياً إلا آخر 4 أرقام)",
        "Send the full ID number in webhooks (by default only its last 4 digits are shown)",
    ),
    "contacts.webhook_save": ("احفظ الويب هوك", "Save the webhook"),
    "contacts.webhook_remove": ("أوقف الويب هوك", "Stop the webhook"),
    "contacts.webhook_saved": ("تم حفظ الويب هوك.", "Webhook saved."),
    "contacts.webhook_removed": (
        "أُوقف الويب هوك: لن تُرسل إليه إشعارات جديدة.",
        "Webhook stopped: no new alerts go to it.",
    ),
    "contacts.secret_new": (
        "مفتاح التوقيع للويب هوك — انسخه الآن إلى نظامكم واحفظه في مكان آمن، فلن يظهر مرة أخرى:",
        "The webhook signing secret — copy it to your system now and keep it safe; it will not be shown "
        "again:",
    ),
    "contacts.secret_rotated": (
        "مفتاح التوقيع الجديد — انسخه الآن، فلن يظهر مرة أخرى. يبقى المفتاح السابق يوقّع معه حتى {until}:",
        "The new signing secret — copy it now; it will not be shown again. The previous one keeps signing "
        "beside it until {until}:",
    ),
    "contacts.secret_rotate": (
        "أنشئ مفتاح توقيع جديداً (يبقى القديم صالحاً 24 ساعة)",
        "Make a new signing secret (the old one keeps working for 24 hours)",
    ),
    "contacts.delivery_title": ("ساعات الهدوء والملخص اليومي", "Quiet hours and daily digest"),
    "contacts.delivery_saved": ("تم حفظ إعدادات التسليم.", "Delivery settings saved."),
    "contacts.quiet_legend": ("ساعات الهدوء", "Quiet hours"),
    "contacts.quiet_label": (
        "أجّلوا الرسائل النصية غير العاجلة خلال ساعات الهدوء",
        "Hold non-urgent SMS during quiet hours",
    ),
    "contacts.quiet_hint": (
        "مقترح: من 22:00 إلى 07:00 بتوقيت {zone}. لا يؤجَّل البريد ولا الويب هوك.",
        "Suggested: 22:00 to 07:00, {zone} time. E-mails and webhooks are never held.",
    ),
    "contacts.quiet_now": ("المعمول به الآن", "In force now"),
    "contacts.quiet_off": ("ساعات الهدوء غير مفعّلة", "Quiet hours are off"),
    "contacts.quiet_on": ("من {start} إلى {end}", "From {start} to {end}"),
    "contacts.quiet_start": ("من الساعة", "From"),
    "contacts.quiet_end": ("إلى الساعة", "Until"),
    "contacts.urgent_legend": (
        "أنواع عاجلة: رسائلها النصية لا تؤجَّل أبداً",
        "Urgent types: their SMS are never held",
    ),
    "contacts.digest_legend": ("الملخص اليومي بالبريد", "Daily e-mail digest"),
    "contacts.digest_hint": (
        "بريد واحد في اليوم يسرد تنبيهات انتهاء الجوازات بدلاً من بريد لكل تنبيه (إلى البريد الافتراضي).",
        "One e-mail a day listing the passport-expiry warnings instead of one e-mail each (to the default "
        "e-mail address).",
    ),
    "contacts.delivery_save": ("احفظ إعدادات التسليم", "Save the delivery settings"),
    # --- keys ------------------------------------------------------------------------------------
    "keys.title": ("مفتاح الربط البرمجي (API)", "API key"),
    "keys.lead": (
        "تتصل أنظمة منشأتك بواجهة الربط البرمجي بهذا المفتاح. لا نحفظ المفتاح نفسه بل بصمته، "
        "فلا يظهر إلا مرة واحدة عند إنشائه.",
        "Your establishment's systems call the API with this key. We keep only a fingerprint of it, so it "
        "is shown once, when it is made.",
    ),
    "keys.active": ("يوجد مفتاح فعّال.", "A key is active."),
    "keys.none": (
        "لا يوجد مفتاح فعّال: لا يستطيع أي نظام الاتصال باسم منشأتك.",
        "No key is active: no system can call the API for your establishment.",
    ),
    "keys.rotate": ("أنشئ مفتاحاً جديداً (يتوقف القديم فوراً)", "Issue a new key (the old one stops at once)"),
    "keys.create": ("أنشئ مفتاحاً", "Create a key"),
    "keys.revoke": ("ألغِ المفتاح", "Revoke the key"),
    "keys.new_key": (
        "مفتاحك الجديد — انسخه الآن واحفظه في مكان آمن، فلن يظهر مرة أخرى:",
        "Your new key — copy it now and keep it somewhere safe; it will not be shown again:",
    ),
    "keys.revoked": ("أُلغي المفتاح ولم يعد يعمل.", "The key is revoked and no longer works."),
    # --- users -----------------------------------------------------------------------------------
    "users.title": ("مستخدمو البوابة", "Portal users"),
    "users.col.name": ("الاسم", "Name"),
    "users.col.login": ("البريد أو الجوال", "E-mail or mobile"),
    "users.col.language": ("اللغة", "Language"),
    "users.col.actions": ("إجراءات", "Actions"),
    "users.add_title": ("إضافة مستخدم", "Add a user"),
    "users.name_label": ("الاسم", "Name"),
    "users.email_label": ("البريد الإلكتروني", "E-mail address"),
    "users.mobile_label": ("الجوال", "Mobile"),
    "users.add": ("أضف المستخدم", "Add the user"),
    "users.added": (
        "تمت إضافة {login}؛ يدخل البوابة برمز يصله.",
        "{login} was added; they sign in with a code sent to them.",
    ),
    "users.remove": ("أزل {login}", "Remove {login}"),
    "users.removed": ("أُزيل {login} وانتهت جلساته.", "{login} was removed and their sessions ended."),
    "users.you": ("(أنت)", "(you)"),
    # --- audit -----------------------------------------------------------------------------------
    "audit.title": ("التدقيق", "Audit"),
    "audit.lead": (
        "اطّلع على السجل كما هو محفوظ: سجل أي شخص، واشتراكات أي منشأة في أي وقت، وسلامة السجل.",
        "Read the record as it is stored: anyone's timeline, any establishment's subscriptions at any "
        "time, and the record's integrity.",
    ),
    "audit.person_title": ("سجل شخص", "Person timeline"),
    "audit.id_label": ("رقم الهوية", "ID number"),
    "audit.at_label": ("كما كان في", "As of"),
    "audit.at_hint": (
        "اتركه فارغاً للسجل كما هو الآن. الأوقات بتوقيت الرياض.",
        "Leave empty for the record as it is now. Times are Riyadh time.",
    ),
    "audit.timeline_title": ("سجل رقم الهوية {id}", "Timeline of ID number {id}"),
    "audit.as_of": ("كما سُجّل حتى {at}", "As recorded by {at}"),
    "audit.now": ("كما هو الآن", "As it is now"),
    "audit.events": ("الأحداث بترتيب وقوعها", "Events, in the order they happened"),
    "audit.col.occurred": ("وقت الوقوع", "Happened"),
    "audit.col.recorded": ("وقت التسجيل", "Recorded"),
    "audit.col.type": ("الحدث", "Event"),
    "audit.col.details": ("التفاصيل", "Details"),
    "audit.alerts": ("الإشعارات ومحاولات إرسالها", "Alerts and their delivery attempts"),
    "audit.col.establishment": ("المنشأة", "Establishment"),
    "audit.no_alerts": ("لا توجد إشعارات.", "No alerts."),
    "audit.sponsorships": ("الكفالات", "Sponsorships"),
    "audit.col.sponsor": ("الكفيل", "Sponsor"),
    "audit.col.from": ("من", "From"),
    "audit.col.until": ("إلى", "Until"),
    "audit.ongoing": ("حتى الآن", "to date"),
    "audit.est_title": ("اشتراكات منشأة في وقت محدد", "An establishment's subscriptions at a time"),
    "audit.unified_label": ("الرقم الموحد للمنشأة", "The establishment's unified number"),
    "audit.est_count": ("{count} اشتراك نشط", "{count} active subscriptions"),
    "audit.est_shown": ("تُعرض أول {shown} منها.", "The first {shown} are shown."),
    "audit.integrity_title": ("سلامة السجل", "Record integrity"),
    "audit.integrity_lead": (
        "كل حدث محفوظ مربوط بما قبله بسلسلة بصمات؛ أي تعديل أو حذف أو إدراج يكسر السلسلة. "
        "انشر آخر حلقة ليتحقق منها غيرك لاحقاً.",
        "Every stored event is chained to the one before by its fingerprint; any change, deletion or "
        "insertion breaks the chain. Publish the latest link so that others can check against it later.",
    ),
    "audit.latest_link": ("آخر حلقة في السلسلة", "The latest link of the chain"),
    "audit.position": ("الموضع", "Position"),
    "audit.link": ("البصمة", "Link"),
    "audit.verify": ("تحقّق من السجل كاملاً الآن", "Verify the whole record now"),
    "audit.intact": (
        "السجل سليم: تم التحقق من {events} حدث.",
        "The record is intact: {events} events checked.",
    ),
    "audit.altered": ("السجل تغيّر بعد تسجيله: {finding}", "The record was altered: {finding}"),
    "audit.empty": ("السجل فارغ بعد.", "The record is still empty."),
}

# The alerts' vocabulary: one name for each event, visa type and status, in messages and on pages.
for _name, _words in EVENT_LABELS.items():
    _ENTRIES[f"event.{_name}"] = (_words["ar"], _words["en"])
for _prefix, _table in (("direction", DIRECTIONS), ("visa_type", VISA_TYPES), ("visa_status", VISA_STATUSES)):
    for _name, _words in _table.items():
        _ENTRIES[f"{_prefix}.{_name}"] = (_words["ar"], _words["en"])
_ENTRIES.update(
    {
        "event.person_registered": ("تسجيل الشخص", "person registered"),
        "event.sponsorship_transferred": ("نقل الكفالة", "sponsorship transferred"),
        # The e-services' events (docs/eservices.md): on timelines and among an establishment's alerts.
        "event.person_details_changed": ("تحديث بيانات الشخص", "Person's details changed"),
        "event.travel_permit_requested": ("طلب تصريح سفر", "Travel permit requested"),
        "event.travel_permit_decided": ("قرار على تصريح السفر", "Travel permit decided"),
        "event.travel_permit_cancelled": ("إلغاء تصريح السفر", "Travel permit cancelled"),
        "event.makkah_permit_requested": ("طلب تصريح دخول العاصمة المقدسة", "Makkah entry permit requested"),
        "event.makkah_permit_decided": ("قرار على تصريح دخول العاصمة المقدسة", "Makkah entry permit decided"),
        "event.makkah_permit_revoked": ("سحب تصريح دخول العاصمة المقدسة", "Makkah entry permit revoked"),
        "event.ticket_received": ("استلام طلب تواصل", "Support request received"),
        "event.ticket_status_changed": ("تغيّر حالة طلب التواصل", "Support request status changed"),
        "event.ticket_message_added": ("رسالة على طلب التواصل", "Message on a support request"),
        "type.request_status": ("حالة الطلبات", "Request status"),
        # Alerts about no single event: e-mails to the establishment itself.
        "event.daily_digest": ("الملخص اليومي لتنبيهات الجوازات", "Daily digest of passport warnings"),
        "event.webhook_disabled": ("إيقاف عنوان الويب هوك", "Webhook endpoint disabled"),
    }
)

# --- the e-services' pages (docs/portal.md, "E-services"): individuals, establishments, officers ------
_ENTRIES.update(
    {
        "login.individual_hint": (
            "للأفراد: اكتب البريد الإلكتروني أو رقم الجوال المسجّل في بياناتك لدى الجوازات.",
            "Individuals: type the e-mail address or mobile number on your record with the Directorate.",
        ),
        "nav.my_services": ("خدماتي", "My services"),
        "nav.queue": ("الطلبات المنتظرة", "Waiting requests"),
        "nav.travel_permits": ("تصاريح السفر", "Travel permits"),
        "nav.passport": ("تحديث الجواز", "Passport update"),
        "nav.makkah_permits": ("تصاريح دخول العاصمة المقدسة", "Makkah entry permits"),
        "nav.tickets": ("طلبات التواصل", "Support tickets"),
        "es.any": ("الكل", "Any"),
        "es.filter": ("اعرض", "Show"),
        "es.status_label": ("الحالة", "Status"),
        "es.choose": ("اختر…", "Choose…"),
        "es.first_page": ("الصفحة الأولى", "First page"),
        "es.next_page": ("الصفحة التالية", "Next page"),
        "es.self_option": ("{name} (أنت)", "{name} (you)"),
        "es.form_reused": (
            "أُرسل هذا النموذج من قبل بقيم أخرى. راجع القيم وأرسله من جديد.",
            "This form was sent before with other values. Check the values and send it again.",
        ),
        "kind.travel_permit": ("تصريح سفر", "Travel permit"),
        "kind.makkah_permit": ("تصريح دخول العاصمة المقدسة", "Makkah entry permit"),
        "kind.ticket": ("طلب تواصل", "Support ticket"),
        # --- statuses in plain words, and short for filters -------------------------------------------
        "permit_status.pending": ("بانتظار قرار الموظف المختص", "Waiting for an officer's decision"),
        "permit_status.approved": ("تمت الموافقة: التصريح ساري خلال مدته", "Approved: valid for its dates"),
        "permit_status.rejected": ("مرفوض (السبب أدناه)", "Rejected (the reason is below)"),
        "permit_status.cancelled": ("ألغاه ولي الأمر", "Cancelled by the guardian"),
        "permit_status.revoked": (
            "سُحب بعد الموافقة (السبب أدناه)",
            "Withdrawn after approval (see the reason)",
        ),
        "permit_short.pending": ("قيد الانتظار", "Pending"),
        "permit_short.approved": ("موافق عليه", "Approved"),
        "permit_short.rejected": ("مرفوض", "Rejected"),
        "permit_short.cancelled": ("ملغى", "Cancelled"),
        "permit_short.revoked": ("مسحوب", "Revoked"),
        "ticket_status.received": ("استُلم: سيتولاه موظف قريباً", "Received: an officer will take it up"),
        "ticket_status.in_progress": ("قيد المعالجة لدى الجوازات", "Being worked on by the Directorate"),
        "ticket_status.needs_information": (
            "بانتظار معلومات من مقدّم الطلب",
            "Waiting for information from the requester",
        ),
        "ticket_status.resolved": ("تم الحل", "Resolved"),
        "ticket_status.closed": ("مغلق", "Closed"),
        "ticket_short.received": ("مستلم", "Received"),
        "ticket_short.in_progress": ("قيد المعالجة", "In progress"),
        "ticket_short.needs_information": ("بحاجة إلى معلومات", "Needs information"),
        "ticket_short.resolved": ("تم الحل", "Resolved"),
        "ticket_short.closed": ("مغلق", "Closed"),
        # --- an individual's start page ------------------------------------------------------------
        "home.title": ("خدماتي", "My services"),
        "home.lead": (
            "مرحباً {name}. من هنا تطلب تصاريح السفر لمن تعولهم، وتحدّث بيانات الجواز المجدَّد، وتتقدّم "
            "بطلب تصريح دخول العاصمة المقدسة، وتتابع طلبات التواصل.",
            "Welcome, {name}. Here you ask for travel permits for your dependants, enter a renewed "
            "passport, apply for a Makkah entry permit and follow your support tickets.",
        ),
        "home.travel_desc": (
            "لمن تعولهم من غير المتزوجين دون 21 سنة",
            "For your unmarried dependants under 21",
        ),
        "home.passport_desc": ("لك أو لمن تعولهم بعد تجديد الجواز", "Yours or a dependant's, once renewed"),
        "home.makkah_desc": ("في موسم الحج، لك أو لمن تعولهم", "In Hajj season, for you or a dependant"),
        "home.tickets_desc": ("إن تعثّرت معاملة إلكترونية", "When an e-service transaction went wrong"),
        "home.household": ("أنت ومن تعولهم في السجل", "You and your dependants on record"),
        "home.household_none": (
            "لا نجد سجلاً باسمك أو لمن تعولهم بعد.",
            "We find no record of yours or of your dependants yet.",
        ),
        "home.col.name": ("الاسم", "Name"),
        "home.col.id": ("رقم الهوية", "ID number"),
        "home.col.relation": ("الصفة", "Who"),
        "home.self": ("أنت", "You"),
        "home.dependant": ("تابع لك", "Your dependant"),
        "home.latest": ("آخر طلباتك", "Your latest requests"),
        "home.none": ("لا توجد لك طلبات بعد.", "You have no requests yet."),
        # --- the officers' queue -----------------------------------------------------------------------
        "queue.title": ("الطلبات المنتظرة", "Waiting requests"),
        "queue.lead": (
            "الطلبات التي تنتظر قراراً أو معالجة، الأقدم أولاً: تصاريح لم يُبتّ فيها، وطلبات تواصل "
            "جديدة أو قيد المعالجة أو أجاب أصحابها عن سؤال الموظف.",
            "Requests waiting for a decision or for work, oldest first: undecided permits, and support "
            "tickets that are new, being worked on, or answered by their requester.",
        ),
        "queue.kind_label": ("نوع الطلب", "Kind of request"),
        "queue.count": (
            "{count} طلب (يُعرض أقدم {shown} من كل نوع على الأكثر)",
            "{count} requests (at most the oldest {shown} of each kind are shown)",
        ),
        "queue.none": ("لا توجد طلبات منتظرة.", "Nothing is waiting."),
        "queue.answered": ("ردّ مقدّم الطلب", "The requester has replied"),
        "queue.col.kind": ("نوع الطلب", "Kind"),
        "queue.col.about": ("بشأن", "About"),
        # --- permits (travel and Makkah) -------------------------------------------------------------
        "permit.ref": ("المرجع", "Reference"),
        "permit.person": ("الشخص", "Person"),
        "permit.status": ("الحالة", "Status"),
        "permit.valid": ("مدة الصلاحية", "Valid"),
        "permit.period": ("من {start} إلى {end}", "From {start} to {end}"),
        "permit.requested_at": ("تاريخ الطلب", "Requested"),
        "permit.reason": ("السبب", "Reason"),
        "permit.guardian": ("ولي الأمر مقدّم الطلب", "Guardian who asked"),
        "permit.requester": ("مقدّم الطلب", "Requested by"),
        "requester.individual": ("فرد، رقم الهوية {id}", "An individual, ID number {id}"),
        "requester.establishment": (
            "منشأة، الرقم الموحد {id}",
            "An establishment, unified number {id}",
        ),
        "permit.decide_title": ("القرار", "Decision"),
        "permit.decision_label": ("قرارك", "Your decision"),
        "permit.approve": ("الموافقة", "Approve"),
        "permit.reject": ("الرفض", "Reject"),
        "permit.reason_label": ("السبب", "Reason"),
        "permit.reason_hint": (
            "مطلوب للرفض؛ يقرؤه مقدّم الطلب في الإشعار الذي يصله",
            "Required to reject; the requester reads it in the notification they get",
        ),
        "permit.decide": ("سجّل القرار", "Record the decision"),
        "permit.decided": (
            "سُجّل القرار، وسيُبلَّغ مقدّم الطلب.",
            "The decision is recorded; the requester will be told.",
        ),
        "permit.revoke_title": ("سحب التصريح", "Revoke the permit"),
        "permit.revoke_hint": (
            "السبب مطلوب، ويقرؤه مقدّم الطلب في الإشعار الذي يصله",
            "A reason is required; the requester reads it in the notification they get",
        ),
        "permit.revoke": ("اسحب التصريح", "Revoke the permit"),
        "permit.revoked": (
            "سُحب التصريح، وسيُبلَّغ مقدّم الطلب.",
            "The permit is revoked; the requester will be told.",
        ),
        # --- travel permits ----------------------------------------------------------------------------
        "travel.title": ("تصاريح السفر لمن تعولهم", "Travel permits for your dependants"),
        "travel.officer_title": ("تصاريح السفر", "Travel permits"),
        "travel.lead": (
            "يطلب ولي الأمر تصريح سفر لمن يعولهم من غير المتزوجين دون 21 سنة، ويبتّ فيه موظف الجوازات، "
            "ويصلك إشعار بكل تغيير في حالته.",
            "A guardian asks for a travel permit for an unmarried dependant under 21; an officer of the "
            "Directorate decides, and you are told of every change of its status.",
        ),
        "travel.none": ("لا توجد تصاريح سفر.", "No travel permits."),
        "travel.request_title": ("طلب تصريح سفر", "Ask for a travel permit"),
        "travel.person_label": ("لمن التصريح", "Who the permit is for"),
        "travel.person_hint": ("من تعولهم بحسب السجل", "Your dependants, as on record"),
        "travel.id_label": ("رقم هوية التابع", "Your dependant's ID number"),
        "travel.id_hint": ("10 أرقام", "10 digits"),
        "travel.from_label": ("يبدأ في", "Valid from"),
        "travel.until_label": ("ينتهي في", "Valid until"),
        "travel.dates_hint": (
            "اليوم أو بعده بما لا يزيد على سنة، ولمدة أقصاها {days} يوماً",
            "Today or within a year from today, for at most {days} days",
        ),
        "travel.submit": ("أرسل الطلب", "Send the request"),
        "travel.requested": (
            "أُرسل طلب تصريح السفر، وهو الآن بانتظار قرار الموظف المختص.",
            "The travel permit request is sent; it now waits for an officer's decision.",
        ),
        "travel.permit_title": ("تصريح السفر {ref}", "Travel permit {ref}"),
        "travel.cancel_heading": ("إلغاء التصريح", "Cancel the permit"),
        "travel.cancel_hint": (
            "يمكنك إلغاء التصريح ما دام بانتظار القرار أو موافقاً عليه.",
            "You may cancel the permit while it waits for a decision or is approved.",
        ),
        "travel.cancel": ("ألغِ التصريح", "Cancel the permit"),
        "travel.cancel_title": ("تأكيد إلغاء تصريح السفر", "Confirm cancelling the travel permit"),
        "travel.cancel_body": (
            "هل تريد إلغاء تصريح السفر {ref} الخاص بـ {person}؟ لا يمكن التراجع عن الإلغاء.",
            "Do you want to cancel travel permit {ref} for {person}? Cancelling cannot be undone.",
        ),
        "travel.cancel_confirm": ("نعم، ألغِ التصريح", "Yes, cancel the permit"),
        "travel.cancelled": ("أُلغي تصريح السفر.", "The travel permit is cancelled."),
        "travel.back": ("كل تصاريح السفر", "All travel permits"),
        # --- Makkah entry permits ----------------------------------------------------------------------
        "makkah.title": ("تصاريح دخول العاصمة المقدسة", "Makkah entry permits"),
        "makkah.lead_individual": (
            "في موسم الحج تتقدّم بطلب تصريح لنفسك أو لمن تعولهم، إذا كانت الفئة: عمالة منزلية، أو تابع، "
            "أو إقامة مميزة، أو مستثمر، أو مواطن، أو مواطن خليجي.",
            "In Hajj season you apply for yourself or a dependant whose category is domestic worker, "
            "dependant, premium residency, investor, citizen or GCC citizen.",
        ),
        "makkah.lead_establishment": (
            "تتقدّم المنشأة بطلب تصريح لمن تكفلهم إذا كان مقرها مكة المكرمة، أو كان الشخص يحمل تأشيرة "
            "عمل موسمي سارية.",
            "An establishment applies for people it sponsors when it is based in Makkah, or when the "
            "person holds a valid seasonal-work visa.",
        ),
        "makkah.none": ("لا توجد طلبات.", "No applications."),
        "makkah.season": ("الموسم", "Season"),
        "makkah.season_value": ("حج {season} هـ", "Hajj {season} AH"),
        "makkah.apply_title": ("طلب تصريح دخول", "Apply for an entry permit"),
        "makkah.person_label": ("لمن التصريح", "Who the permit is for"),
        "makkah.id_label": ("رقم هوية الشخص", "The person's ID number"),
        "makkah.id_hint": (
            "لشخص تكفله منشأتك (10 أرقام)",
            "Of a person your establishment sponsors (10 digits)",
        ),
        "makkah.season_label": ("موسم الحج", "Hajj season"),
        "makkah.season_option": (
            "حج {season} هـ — صالح من {start} إلى {end}",
            "Hajj {season} AH — valid from {start} to {end}",
        ),
        "makkah.documents_label": ("المستندات", "Documents"),
        "makkah.documents_hint": (
            "من 1 إلى 10 ملفات. تُحفظ مع الطلب بصمة كل ملف (SHA-256) واسمه، لا الملف نفسه: احتفظ "
            "بالأصول ليطابقها الموظف.",
            "1 to 10 files. The application keeps each file's name and fingerprint (SHA-256), not the "
            "file itself: keep the originals for the officer to check against it.",
        ),
        "makkah.submit": ("أرسل الطلب", "Send the application"),
        "makkah.applied": (
            "أُرسل طلب التصريح، وهو الآن بانتظار قرار الموظف المختص.",
            "The application is sent; it now waits for an officer's decision.",
        ),
        "makkah.permit_title": ("تصريح دخول العاصمة المقدسة {ref}", "Makkah entry permit {ref}"),
        "makkah.documents": ("المستندات وبصماتها", "Documents and their fingerprints"),
        "makkah.document_name": ("الملف", "File"),
        "makkah.document_hash": ("البصمة (SHA-256)", "Fingerprint (SHA-256)"),
        "makkah.back": ("كل طلبات التصاريح", "All applications"),
        # --- renewed passport --------------------------------------------------------------------------
        "passport.title": ("تحديث بيانات الجواز المجدَّد", "Enter a renewed passport"),
        "passport.lead": (
            "أدخل بيانات الجواز الجديد لك أو لمن تعولهم كما هي مطبوعة فيه. تُبلَّغ المنشأة الكافلة كالمعتاد، "
            "وتتوقف تنبيهات انتهاء الجواز القديم.",
            "Enter the new passport's details, yours or a dependant's, as printed in it. The sponsoring "
            "establishment is told as usual, and warnings about the old passport's expiry stop.",
        ),
        "passport.current_title": ("الجوازات في السجل الآن", "Passports on record now"),
        "passport.number_col": ("رقم الجواز", "Passport number"),
        "passport.expiry_col": ("ينتهي في", "Expires"),
        "passport.form_title": ("الجواز الجديد", "The new passport"),
        "passport.person_label": ("صاحب الجواز", "Whose passport"),
        "passport.id_label": ("رقم هوية صاحب الجواز", "The passport holder's ID number"),
        "passport.number_label": ("رقم الجواز الجديد", "New passport number"),
        "passport.issue_label": ("تاريخ الإصدار", "Issue date"),
        "passport.expiry_label": ("تاريخ الانتهاء", "Expiry date"),
        "passport.submit": ("احفظ الجواز الجديد", "Save the new passport"),
        "passport.saved": (
            "حُفظ الجواز الجديد {number} لرقم الهوية {id}.",
            "The new passport {number} is saved for ID number {id}.",
        ),
        # --- support tickets ---------------------------------------------------------------------------
        "tickets.title": ("طلبات التواصل", "Support tickets"),
        "tickets.lead": (
            "إن تعثّرت معاملة إلكترونية فأخبرنا هنا: اختر نوع المشكلة والإجراء، وصِفها، وأرفق ما يوضحها. "
            "يصلك رقم متابعة، وإشعار بكل تحديث.",
            "If an e-service transaction went wrong, tell us here: choose the kind of problem and the "
            "procedure, describe it and attach what shows it. You get a tracking number, and a "
            "notification of every update.",
        ),
        "tickets.none": ("لا توجد طلبات تواصل.", "No support tickets."),
        "tickets.col.number": ("رقم المتابعة", "Tracking number"),
        "tickets.col.problem": ("نوع المشكلة", "Problem"),
        "tickets.col.procedure": ("الإجراء", "Procedure"),
        "tickets.col.received": ("تاريخ الاستلام", "Received"),
        "tickets.col.updated": ("آخر تحديث", "Last update"),
        "tickets.new_title": ("طلب تواصل جديد", "A new support ticket"),
        "tickets.problem_label": ("نوع المشكلة", "Kind of problem"),
        "tickets.procedure_label": ("الإجراء الذي تعثّر", "The procedure that failed"),
        "tickets.description_label": ("وصف المشكلة", "What happened"),
        "tickets.description_hint": (
            "ما الذي حاولت فعله، وما الذي ظهر لك، ومتى (حتى 5000 حرف)",
            "What you tried to do, what you saw, and when (up to 5,000 characters)",
        ),
        "tickets.attachments_label": ("المرفقات", "Attachments"),
        "tickets.attachments_hint": (
            "اختياري: حتى 5 ملفات، كل ملف حتى 5 ميغابايت، بصيغة PDF أو PNG أو JPEG",
            "Optional: up to 5 files of up to 5 MB each, PDF, PNG or JPEG",
        ),
        "tickets.submit": ("أرسل الطلب", "Send the ticket"),
        "tickets.created": (
            "استلمنا طلبك. رقم المتابعة:",
            "We have received your ticket. Its tracking number:",
        ),
        "tickets.number_hint": (
            "احتفظ به لمتابعة الطلب؛ يُقرأ مجموعتين من 5 رموز، وليس فيه الحروف I وL وO وU.",
            "Keep it to follow the ticket; read it as two groups of five; it has no I, L, O or U.",
        ),
        "tickets.back": ("كل طلبات التواصل", "All support tickets"),
        "ticket.title": ("طلب التواصل {number}", "Support ticket {number}"),
        "ticket.heading": ("طلب التواصل", "Support ticket"),
        "ticket.description": ("الوصف", "Description"),
        "ticket.attachments": ("المرفقات", "Attachments"),
        "ticket.size": ("{size} بايت", "{size} bytes"),
        "ticket.messages": ("المراسلات", "Messages"),
        "ticket.no_messages": ("لا توجد رسائل بعد.", "No messages yet."),
        "message_by.officer": ("موظف الجوازات", "Passports officer"),
        "message_by.owner": ("مقدّم الطلب", "The requester"),
        "ticket.reply_title": ("الرد", "Reply"),
        "ticket.message_label": ("رسالتك", "Your message"),
        "ticket.reply": ("أرسل الرد", "Send the reply"),
        "ticket.replied": ("أُرسل ردّك.", "Your reply is sent."),
        "ticket.needs_you": (
            "تحتاج الجوازات إلى معلومات منك لإكمال الطلب: اقرأ الرسالة واكتب ردّك أدناه.",
            "The Directorate needs information from you to go on: read the message and reply below.",
        ),
        "ticket.closed_note": (
            "أُغلق هذا الطلب. لإبلاغنا بمشكلة جديدة افتح طلباً جديداً.",
            "This ticket is closed. To tell us about a new problem, open a new ticket.",
        ),
        "ticket.status_title": ("تحديث الحالة", "Move the ticket on"),
        "ticket.status_label": ("الحالة الجديدة", "New status"),
        "ticket.officer_message_label": ("رسالة إلى مقدّم الطلب", "Message to the requester"),
        "ticket.officer_message_hint": (
            "مطلوبة عند طلب معلومات؛ تصل إلى مقدّم الطلب في الإشعار",
            "Required when asking for information; it reaches the requester in the notification",
        ),
        "ticket.set_status": ("حدّث الحالة", "Update the status"),
        "ticket.status_changed": (
            "حُدّثت الحالة، وسيُبلَّغ مقدّم الطلب.",
            "The status is updated; the requester will be told.",
        ),
        "problem.transaction_failed": ("تعذّر إتمام معاملة", "A transaction failed"),
        "problem.data_mismatch": ("بيانات غير مطابقة", "Data do not match"),
        "problem.payment_issue": ("مشكلة في السداد", "A payment problem"),
        "problem.access_issue": ("تعذّر الدخول إلى الخدمة", "Cannot get into the service"),
        "problem.other": ("مشكلة أخرى", "Something else"),
        "procedure.exit_reentry_visa": ("تأشيرة خروج وعودة", "Exit and re-entry visa"),
        "procedure.final_exit_visa": ("تأشيرة خروج نهائي", "Final exit visa"),
        "procedure.iqama_renewal": ("تجديد الإقامة", "Iqama renewal"),
        "procedure.passport_update": ("تحديث بيانات الجواز", "Passport update"),
        "procedure.sponsorship_transfer": ("نقل الكفالة", "Sponsorship transfer"),
        "procedure.visit_visa_extension": ("تمديد تأشيرة الزيارة", "Visit visa extension"),
        "procedure.muqeem_report": ("تقرير مقيم", "Muqeem report"),
        "procedure.other": ("إجراء آخر", "Another procedure"),
        # --- field errors: the e-services' rules, in words -----------------------------------------------
        "field.id_number.not_dependant": (
            "لم نجد بهذا الرقم أحداً تعوله",
            "We found no dependant of yours with this ID number",
        ),
        "field.id_number.not_actable": (
            "لم نجد بهذا الرقم شخصاً يمكنك التقديم عنه",
            "We found no one you may act for with this ID number",
        ),
        "field.date.required": ("أدخل التاريخ", "Enter the date"),
        "field.date.implausible": (
            "التاريخ خارج المدى المقبول (من 1900 إلى 30 سنة من اليوم)",
            "The date is out of range (from 1900 to 30 years from today)",
        ),
        "field.passport_number.required": ("أدخل رقم الجواز", "Enter the passport number"),
        "field.passport_number.invalid": (
            "رقم الجواز غير صالح (حروف وأرقام، حتى 40 رمزاً)",
            "The passport number is not valid (letters and digits, up to 40)",
        ),
        "field.tracking_number.invalid": (
            "رقم المتابعة غير صحيح: 10 رموز مثل 7K3M9-QX2CB",
            "The tracking number is not valid: 10 symbols like 7K3M9-QX2CB",
        ),
        "rule.decision": ("اختر الموافقة أو الرفض", "Choose approve or reject"),
        "rule.under_21": (
            "يجب أن يكون دون 21 سنة في يوم الطلب (أو أن يكون تاريخ ميلاده في السجل)",
            "They must be under 21 on the day of the request (and their birth date on record)",
        ),
        "rule.single": (
            "يجب أن يكون غير متزوج في يوم الطلب (أو أن تكون حالته الاجتماعية في السجل)",
            "They must be single on the day of the request (and their marital status on record)",
        ),
        "rule.window_not_past": ("يبدأ التصريح اليوم أو بعده", "The permit must start today or later"),
        "rule.window_start": (
            "يبدأ التصريح خلال سنة من اليوم",
            "The permit must start within a year from today",
        ),
        "rule.window_order": ("تاريخ الانتهاء قبل تاريخ البدء", "The end date is before the start date"),
        "rule.window_length": ("مدة التصريح أطول من المسموح", "The permit lasts longer than allowed"),
        "rule.individual_category": (
            "فئة هذا الشخص لا تُخدم من حساب الأفراد؛ تتقدّم منشأته الكافلة بالطلب",
            "This person's category is not served to individuals; their sponsoring establishment applies",
        ),
        "rule.makkah_establishment_or_seasonal_visa": (
            "منشأتك ليست في مكة المكرمة، ولا يحمل الشخص تأشيرة عمل موسمي سارية",
            "Your establishment is not based in Makkah and the person holds no valid seasonal-work visa",
        ),
        "rule.season_known": ("موسم غير معروف", "Unknown season"),
        "rule.season_open": (
            "لا يُقبل التقديم لهذا الموسم الآن",
            "This season does not take applications now",
        ),
        "rule.documents_required": ("أرفق مستنداً واحداً على الأقل", "Attach at least one document"),
        "rule.documents_count": ("10 مستندات على الأكثر", "At most 10 documents"),
        "rule.document_name": ("اسم أحد الملفات طويل جداً", "A file's name is too long"),
        "rule.document_hash": ("تعذّرت قراءة أحد الملفات", "One of the files could not be read"),
        "rule.plain_text": (
            "النص يحتوي على رموز غير مسموحة",
            "The text holds characters that are not allowed",
        ),
        "rule.reason_required": ("اكتب السبب: هو مطلوب هنا", "Give the reason: it is required here"),
        "rule.reason_length": ("السبب أطول من 1000 حرف", "The reason is longer than 1,000 characters"),
        "rule.message_required": ("اكتب الرسالة", "Write the message"),
        "rule.message_length": ("الرسالة أطول من 1000 حرف", "The message is longer than 1,000 characters"),
        "rule.problem_type": ("اختر نوع المشكلة", "Choose the kind of problem"),
        "rule.procedure_required": ("اختر الإجراء الذي تعثّر", "Choose the procedure that failed"),
        "rule.procedure_length": (
            "اسم الإجراء أطول من 200 حرف",
            "The procedure's name is longer than 200 characters",
        ),
        "rule.description_required": ("صِف المشكلة", "Describe the problem"),
        "rule.description_length": (
            "الوصف أطول من 5000 حرف",
            "The description is longer than 5,000 characters",
        ),
        "rule.attachments_count": ("5 مرفقات على الأكثر", "At most 5 attachments"),
        "rule.attachment_empty": ("أحد الملفات فارغ", "One of the files is empty"),
        "rule.attachment_size": ("أحد الملفات أكبر من 5 ميغابايت", "One of the files is larger than 5 MB"),
        "rule.attachment_type": (
            "أحد الملفات ليس PDF أو PNG أو JPEG (يُحكم على الملف بمحتواه لا باسمه)",
            "One of the files is not a PDF, PNG or JPEG (judged by its content, not its name)",
        ),
        "rule.ticket_status": ("اختر حالة من القائمة", "Choose a status from the list"),
        "rule.passport_not_issued": (
            "تاريخ الإصدار بعد اليوم: الجواز لم يصدر بعد",
            "The issue date is after today: the passport is not issued yet",
        ),
        "rule.passport_expires_before_issue": (
            "تاريخ الانتهاء ليس بعد تاريخ الإصدار",
            "The expiry date is not after the issue date",
        ),
        "rule.passport_number_repeated": (
            "هذا رقم الجواز الحالي؛ أدخل رقم الجواز الجديد",
            "This is the current passport's number; enter the new passport's number",
        ),
        "conflict.generic": (
            "تغيّر الطلب للتو؛ راجع حالته وأعد المحاولة",
            "The request just changed; check it and try again",
        ),
        "conflict.travel_overlap": (
            "لهذا الشخص تصريح سفر آخر بانتظار القرار أو موافق عليه يتداخل مع هذه المدة",
            "This person has another pending or approved travel permit overlapping these dates",
        ),
        "conflict.makkah_season": (
            "لهذا الشخص طلب بانتظار القرار أو تصريح موافق عليه في هذا الموسم",
            "This person already has a pending application or an approved permit for this season",
        ),
        "conflict.decided": (
            "لم يعد الطلب بانتظار قرار؛ الصفحة تعرض حالته الآن",
            "The request no longer waits for a decision; the page shows its status now",
        ),
        "conflict.not_active": ("لم يعد التصريح سارياً", "The permit is no longer in force"),
        "conflict.ticket_status": (
            "للطلب هذه الحالة بالفعل، أو أنه مغلق",
            "The ticket already has this status, or it is closed",
        ),
        "conflict.ticket_closed": ("الطلب مغلق", "The ticket is closed"),
    }
)

MESSAGES: dict[str, dict[Language, str]] = {key: {"ar": ar, "en": en} for key, (ar, en) in _ENTRIES.items()}


def register(entries: dict[str, tuple[str, str]]) -> None:
    """Add catalogue entries (`key: (Arabic, English)`); a key may be defined once only."""
    for key, (ar, en) in entries.items():
        if key in MESSAGES:
            raise ValueError(f"catalogue key '{key}' is already defined")
        if not ar.strip() or not en.strip():
            raise ValueError(f"catalogue key '{key}' needs both an Arabic and an English text")
        MESSAGES[key] = {"ar": ar, "en": en}


def language_of(value: str | None) -> Language | None:
    """`ar` or `en` when `value` names one, else None."""
    return "en" if value == "en" else "ar" if value == "ar" else None


def translate(key: str, language: Language, **values: object) -> Markup:
    """The catalogue's text for `key` in `language`, with `{name}` places filled (values escaped)."""
    words = MESSAGES.get(key)
    text = words[language] if words else key  # a missing key shows itself (the catalogue test forbids it)
    return Markup(text).format(**values) if values else Markup(text)
