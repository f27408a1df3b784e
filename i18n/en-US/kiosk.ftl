# Kiosk screens, English.

station-name = 24-Hour Government Service Station
# The station's help line from its configuration, under an error.
help-phone-line = For help, call { $phone }
station-name-short = e-Station 24h
station-motto = Self-service, open day and night
attract-open = Open 24 hours · Self-service available
attract-degraded = Some services are unavailable right now
attract-services = Certificates · Origin forms · Application progress · Submissions
attract-start = Touch the screen to start
attract-start-hint = Follow the steps on screen
attract-start-short = Start
attract-voice = Voice guidance
attract-voice-hint = Can't see the screen? Press here or F2
attract-languages = 简体中文 · 繁體中文 · English
banner-degraded = Network problem: some services paused; submissions are sent later

language-title = Choose your language
language-hint = You can switch at any time at the top of the screen

services-title = What would you like to do?
services-hint = Self-service open now
services-loading = Loading the services…
services-none-open = No self-service is open right now. Please visit a service window during office hours.

insert-card-title = Insert your social security card
insert-card-reader = Card reader
insert-card-card = Social security card
insert-card-hint = Chip facing up, into the reader below the screen. Leave it in until you are done.
demo-insert-card = Insert demo card
identify-title = Insert your card, or scan the code on your phone
identify-picture = The front of the kiosk: 1 is the card reader, below the screen; 2 is the scanner window, below the card reader.
identify-card-title = Insert your social security card
identify-card-hint = Chip facing up, into card reader 1. Leave it in until you are done.
identify-phone-title = No card with you? Scan your phone
identify-phone-hint = Open the identity code in your electronic social security card or government services app, and hold the phone screen down about 10 cm above scanner window 2 until it beeps.
checking-code-title = Checking your code
checking-code-hint = Usually a few seconds
goodbye-phone-reminder = Remember to take your phone and belongings
demo-only = Demo mode only

pin-title = Enter your card PIN
pin-hint = Use the keys below to type your social security card PIN
pin-wrong = Wrong PIN. { $tries } tries left
pin-wrong-next = When no tries are left the card locks: a service window unlocks it during office hours.
keypad-delete = Delete
keypad-ok = OK

reading-card-title = Reading your card
reading-card-hint = Please leave the card in; usually a few seconds
issuing-title = Issuing your certificate
issuing-hint = Asking the government service platform; usually under half a minute
printing-title = Printing
printing-hint = Please stay until it is done; about half a minute

preview-title = Check your certificate
preview-hint = If everything is right, touch "Print" below
preview-code = Verification code: { $code }
preview-print = Print

take-paper-title = Take your certificate
take-paper-hint = It is in the paper slot below the screen
take-paper-done = I have it

rating-title = How was this service?
rating-hint = Your rating helps us improve
rating-good = Good
rating-average = Average
rating-bad = Bad
rating-skip = Skip

goodbye-title = Thank you
goodbye-rated = We received your rating. Thank you!
goodbye-card-reminder = Remember to take your card and belongings
goodbye-done = Done

nav-back = Back
nav-home = Home
elderly-toggle = Large text
voice-toggle = Voice
voice-toggle-on = Turn voice guidance on
voice-toggle-off = Turn voice guidance off
error-retry = Try again
error-code-label = Verification code

idle-title = Are you still there?
idle-countdown = Returning to the start in { $seconds } seconds; your information will be cleared
idle-more-time = I need more time

# Dates on the attract screen.
date-long = { $weekday }, { $month-name } { $day }, { $year }
weekday-1 = Monday
weekday-2 = Tuesday
weekday-3 = Wednesday
weekday-4 = Thursday
weekday-5 = Friday
weekday-6 = Saturday
weekday-7 = Sunday
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December
# Pages of a list longer than the screen (page: "1 / 2").
page-previous = ‹ Previous
page-next = Next ›
page-of = Page { $page }
