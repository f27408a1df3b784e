# Voice guidance: what each screen says aloud, written to be heard. A blind
# resident cannot see the screen: no "click", "tap", "see", "below"; say "press".
# Each screen's message says what it is and what it asks; `.how` says how to answer
# by touch or key. Codes arrive already spelled one character at a time.

speech-attract = 24-hour government service e-station. Self-service all night: print certificates, check applications, submit forms.
    .how = Press anywhere on the screen, or any key, to start. Every step will be spoken.
speech-language = Please choose a language: Simplified Chinese, Traditional Chinese, or English.
    .how = Press the button of a language, or move with the arrow keys and press Enter.
speech-services = Please choose a service.
    .how = Press a service's name to start it, or move with the arrow keys and press Enter. Press Back to return to the previous step.
speech-services-loading = Loading the services. Please wait.
speech-insert-card = Please insert your social security card.
    .how = Hold the card chip up, chip end first, and push it into the card reader. The kiosk goes on by itself. Do not remove the card until you are done. Press Back to return to the previous step.
speech-identify = Please insert your social security card, or scan the identity code on your phone.
    .how = Card reader 1 is a narrow slot; scanner window 2 is a flat glass window next to it. With a card: hold it chip up and push it into the card reader. The kiosk goes on by itself. Without a card: open the identity code in your electronic social security card or government services app, and hold the phone's screen towards the scanner window, about ten centimetres away, until it beeps. Press Back to return to the previous step.
speech-checking-code = Checking your identity code.
    .how = Please wait. The kiosk goes on by itself.
speech-goodbye-phone = Thank you. Please take your phone and your belongings.
    .how = Press Done to finish. The kiosk returns to the start.
speech-pin-entry = Please enter your card PIN, 4 to 8 digits. To keep it private, each digit you enter is spoken only as asterisk.
    .how = Enter the digits on the number keys, press Delete to remove one, and press OK when done.
speech-reading-card = Reading your card. Please do not remove it.
    .how = Please wait. The kiosk goes on by itself.
speech-choose-period = Please choose the period the certificate covers. It lists each month's contributions in that period.
    .how = Press a period, or move with the arrow keys and press Enter.
speech-keypad-how = Enter the digits on the number keys. Press Delete to remove one, Clear to start again, and OK when done.
speech-keypad-letters-how = Letters and digits can be entered. Press Delete to remove one character, Clear to start again, and OK when done.
speech-keypad-complete = The entry is complete. You can press OK.
speech-progress-choice = How would you like to check an application? There are two ways.
    .how = Press one of them, or move with the arrow keys and press Enter.
speech-progress-list = Please choose an application.
    .how = Press an application number to open it, or move with the arrow keys and press Enter.
speech-submission-form = Change of registered address. Fill in the street, house number, room number and mobile number of the new address.
    .how = Press an item to fill it in. When all are filled in, press Next.
speech-submission-district = Please choose the street of your new address. If it is not in the list, please go to a service window during office hours.
    .how = Press a street, or move with the arrow keys and press Enter.
speech-submission-confirm = Please check your application.
    .how = If it is correct, press Submit. To change an item, press it. Your data is used only for this application and is not kept on this kiosk.
speech-issuing = Issuing your certificate with the government service platform.
    .how = Please wait. The kiosk goes on by itself.
speech-fetching-origin-form = Looking up the certificate of origin.
    .how = Please wait. The kiosk goes on by itself.
speech-fetching-progress = Looking up the application's progress.
    .how = Please wait. The kiosk goes on by itself.
speech-submitting = Submitting. Your application is saved on this kiosk and is being sent.
    .how = Please wait. The kiosk goes on by itself.
speech-certificate-preview = Your certificate is issued. Please check it before printing.
    .how = If it is correct, press Print. You can also press Send to my phone, or Home to finish.
speech-origin-form-preview = The certificate of origin was found. Please check it before printing. It prints on A 4 paper.
    .how = If it is correct, press Print, or Home to finish.
speech-progress-result = Application progress found.
    .how = Press Print to keep a copy, or Finish if you do not need one.
speech-submission-receipt = Application receipt.
    .how = Press Print to keep the receipt, or Finish to end.
speech-origin-form-unsupported = This kiosk cannot print certificates of origin.
    .how = Press Home to finish.
speech-phone-link = You can open this certificate on your phone: this step needs a phone camera to scan the QR code this kiosk shows. Ask someone to help if you need to. The link works for 10 minutes and opens only this certificate.
    .how = Press Back to return to the certificate.
speech-printing = Printing. Please do not leave until it is done.
    .how = Please wait. The kiosk tells you when to take the paper.
speech-printing-progress = { $percent } percent done.
speech-take-paper = Your certificate has come out of the paper slot. Please take it.
    .how = When you have it, press I have it.
speech-rating = Please rate this service: good, average, or bad.
    .how = Press a rating, or Skip. You can also move with the arrow keys and press Enter.
speech-rating-reasons = What could we do better? You can choose several, or send right away.
    .how = Press a reason to choose it or clear it, then press Send rating.
speech-goodbye = Thank you. Please take your social security card and your belongings.
    .how = Press Done to finish. The kiosk returns to the start.
speech-error = Something went wrong.
    .how = Press Try again, or Home to finish.
speech-maintenance-login = Technician sign-in. Insert your service card if you have one, then enter your PIN.
    .how = Enter the PIN on the number keys; each digit is spoken only as asterisk. Press OK when done.
speech-checking-technician = Checking the technician's sign-in.
    .how = Please wait.
speech-maintenance-menu = Maintenance mode. You can run the device self-test or the display test.
    .how = Press Device self-test, Display test, or Leave maintenance.
speech-running-selftest = Running the self-test of every device. It takes a few seconds.
    .how = Please wait. The results will be spoken.
speech-selftest-report = Self-test report. The results go out with the next heartbeat.
    .how = Press Run again to test again, or Back.
speech-selftest-counts = { $pass } passed, { $warn } with warnings, { $fail } failed.
speech-display-test = Display test: a technician checks the colour bars and every cell by sight.
    .how = When done, press Looks right or Faulty.

speech-idle = Are you still there? In { $seconds } seconds the kiosk returns to the start and clears your data.
    .how = To go on, press I need more time, or any key.
speech-degraded = Note: some services are unavailable right now.

# Pieces the screens' speech is built from.
speech-list-count = { $count } choices.
speech-list-item = { $number }: { $item }.
speech-list-selected = { $item }, selected
speech-list-unavailable = { $item }, unavailable right now
speech-choice-with-hint = { $choice }, { $hint }
speech-entered = Entered: { $value }.
speech-nothing-entered = Nothing entered yet.
# PIN digits are never spoken: each is "asterisk".
speech-pin-star = asterisk
speech-pin-entered = { $count } digits entered: { $stars }.
speech-field = { $label }: { $value }.
speech-field-empty = { $label }: not filled in.
speech-document-title = This is: { $title }.
# The English voice cannot read Chinese: Chinese data is described instead.
speech-document-in-chinese = The document is written in Chinese; a Chinese language setting reads it out.
speech-name-in-chinese = a name written in Chinese
