# The resident services beyond the first certificate: keypad, periods, origin forms,
# progress, submissions, phone hand-off, rating reasons.

keypad-empty = Type with the keys below
keypad-clear = Clear
keypad-application-number-title = Enter the application number
keypad-application-number-hint = It is on your receipt: two letters, then 13 digits
keypad-application-number-invalid = Not complete: two letters, then 13 digits (15 in all)
keypad-exporter-code-title = Enter the exporter code
keypad-exporter-code-hint = The 10-character customs code, or the 18-character credit code
keypad-exporter-code-invalid = The code has 10 or 18 characters
keypad-house-number-title = Enter the house number
keypad-house-number-hint = Digits only, for example 90
keypad-house-number-invalid = Enter 1 to 4 digits, not starting with 0
keypad-room-number-title = Enter the room number
keypad-room-number-hint = Digits only, for example 501
keypad-room-number-invalid = Enter 1 to 4 digits, not starting with 0
keypad-phone-title = Enter your mobile number
keypad-phone-hint = 11 digits; we send progress updates to it
keypad-phone-invalid = Enter an 11-digit mobile number starting with 1
keypad-count = { $count } entered

choose-period-title = Which period should the certificate cover?
choose-period-hint = It lists your contributions month by month
period-last-12-months = Last 12 months
    .hint = The usual choice
period-last-24-months = Last 24 months
    .hint = Often asked for loans and residence permits
period-this-year = This year so far
    .hint = From January until now
period-last-year = All of last year
    .hint = January to December of last year

progress-choice-title = How do you want to look up progress?
progress-choice-hint = Choose one
progress-choice-by-number = Type the application number
    .hint = Any application
progress-choice-by-card = Use my social security card
    .hint = All applications in my name
progress-choice-by-identity = Use my card or the code on my phone
    .hint = All applications in my name
progress-list-title = Choose an application
progress-list-hint = These are the applications in your name

submission-form-title = Change of registered address
submission-form-hint = Touch each line to fill it in, then "Next"
submission-confirm-title = Check your details before sending
submission-confirm-hint = If everything is right, touch "Submit"
submission-district-title = Choose the street of your new address
submission-district-hint = Not in the list? Please visit a service window during office hours
form-district = Street
form-house = House number
form-room = Room number
form-phone = Mobile number
form-new-address = New address
form-tap-to-fill = Touch to fill in
street-xihu-wensan = Wensan Road, Xihu District
street-xihu-tianmushan = Tianmushan Road, Xihu District
street-gongshu-hushu-south = Hushu South Road, Gongshu District
street-shangcheng-jiefang = Jiefang Road, Shangcheng District
street-binjiang-jiangnan = Jiangnan Avenue, Binjiang District
street-yuhang-wenyi-west = Wenyi West Road, Yuhang District
form-change = Change
submission-privacy = Your details are used for this notice only; this kiosk does not keep them.
submission-next = Next
submission-submit = Submit
submitting-title = Submitting
submitting-hint = Your notice is saved on this kiosk and being sent; usually a few seconds

receipt-title = Change of address: receipt
receipt-title-refused = Change of address: not accepted
receipt-service = Service
receipt-service-address-change = Change of registered address
receipt-received-at = Submitted
receipt-status = Status
receipt-status-accepted = Accepted by the government service platform
receipt-status-queued = Stored in this kiosk, not sent yet; it is sent automatically when the network is back
receipt-status-refused = Not accepted
receipt-reason = Reason
receipt-reference-accepted = Receipt number
receipt-reference-queued = Kiosk reference
receipt-note-accepted = Use the receipt number to follow your application at any kiosk (Application progress) or at a service counter.
receipt-note-queued = The receipt number is given once the notice is delivered, usually within minutes of the network coming back. Then find it at any kiosk under Application progress, With my card; or quote the kiosk reference at a service counter.
receipt-note-refused = This notice was not submitted and will not be sent again automatically.
receipt-banner-accepted = Your notice was accepted. Print the receipt to keep it.
receipt-banner-queued = Your notice is stored in this kiosk and will be sent automatically when the network is back. No need to submit again.
receipt-banner-refused = Your notice was not accepted

preview-title-certificate = Check your certificate
preview-hint-certificate = If everything is right, touch "Print"
preview-code-certificate = Verification code: { $code }
preview-title-origin-form = Check the certificate of origin
preview-hint-origin-form = It prints on A4 paper
preview-code-origin-form = Certificate number: { $code }
preview-title-progress = Application progress
preview-hint-progress = Print it to keep, or finish
preview-code-progress = Application number: { $code }
preview-title-receipt = Receipt
preview-hint-receipt = Print the receipt to keep it
preview-code-receipt = Reference: { $code }
preview-phone = Send to my phone
flow-finish = Finish

fetching-origin-form-title = Looking up the certificate of origin
fetching-progress-title = Looking up the progress
fetching-hint = Asking the government service platform; usually under half a minute

phone-link-title = Scan to open the certificate on your phone
phone-link-hint = Use your phone's camera or WeChat "Scan"
phone-link-expiry = The link works for 10 minutes and opens only this certificate.
phone-link-close = Done

origin-unsupported-title = This kiosk cannot print certificates of origin
origin-unsupported-action = Certificates of origin need an A4 printer. Print it at a kiosk with an A4 printer or at a service window; it is approved, there is no need to apply again.
origin-unsupported-number = Application number: { $number }

rating-reasons-title = What could be better?
rating-reasons-hint = Choose any that apply, or just send
rating-send = Send rating
reason-too-slow = Too much waiting
reason-hard-to-use = Hard to use
reason-printer-problem = Problem with printing
reason-card-problem = Problem with the card
reason-information-wrong = Information was wrong

flow-error-no-applications = There are no open applications in your name
    .action = If you have questions, please visit a service window during office hours.
outbox-error-failed = This kiosk cannot save your notice right now
    .action = Your notice was not submitted. Please try again later, or visit a service window during office hours.
services-unavailable-offline = Paused while the network is down
