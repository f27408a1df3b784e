# The self-test report: each check's name, what was found and what to do, for
# every code in CHECK_CODES (src/ops/selftest/model.rs). The report's JSON keeps
# its English reason and action for the fleet; the screen shows these, with the
# measured detail underneath in small type.

selftest-detail = Detail: { $detail }

check-card-reader = Card reader
check-card-reader-ok = The card reader is connected
check-card-reader-pcsc-unavailable = The card service (pcscd) does not answer
    .action = Start pcscd (systemctl start pcscd), then run the self-test again
check-card-reader-pcsc-error = The card service could not list the readers
    .action = Restart pcscd; if it happens again, replace the reader
check-card-reader-no-reader = No card reader is connected
    .action = Check the reader's USB cable and power, then plug it in again
check-card-reader-not-configured = This kiosk is set up without a card reader
    .action = Connect a reader and run the self-test without --no-card-reader

check-card-read = Reading a card
check-card-read-ok = A card was read
check-card-read-no-card = There is no card in the reader, so reading was not tested
    .action = Insert a service card or a test card and run the self-test again
check-card-read-mute-card = The card in the reader does not answer
    .action = Try another card; if no card answers, clean or replace the reader
check-card-read-unknown-card = The card answers but is not a kind this kiosk reads
    .action = Test with a social security card or a service card
check-card-read-read-failed = Reading the card failed
    .action = Insert the card again; if several cards fail, replace the reader
check-card-read-not-configured = Reading a card was not tested
    .action = Connect a reader, insert a card and run the self-test again

check-scanner = Code scanner
check-scanner-ok = The code scanner is connected
check-scanner-starting = The code scanner is still starting
    .action = Wait a few seconds and run the self-test again
check-scanner-stopped = The code scanner is not being read
    .action = Restart the kiosk (systemctl restart estation)
check-scanner-not-found = No code scanner was found where the settings say
    .action = Plug the scanner in, or correct the [scanner] setting in kiosk.toml
check-scanner-permission-denied = The kiosk may not open the code scanner
    .action = Install the udev rule in docs/scanner.md so the kiosk may open the scanner
check-scanner-busy = Another program is using the code scanner
    .action = Stop the other program; the kiosk reads the scanner alone
check-scanner-not-a-scanner = The device set as the scanner is not a code scanner
    .action = Check the [scanner] setting in kiosk.toml
check-scanner-unsupported = This scanner mode is read on Linux only
    .action = Switch the scanner to USB serial (USB-CDC) mode
check-scanner-unavailable = The code scanner cannot be read
    .action = Check the scanner's cable; the kiosk reopens it by itself
check-scanner-internal = The scanner check could not run
    .action = Run the self-test again; report it if it happens again
check-scanner-not-configured = No code scanner is set up; residents can sign in by card only
    .action = If this kiosk has a code scanner, set it in kiosk.toml (docs/scanner.md)

check-printer = Printer
check-printer-ok = The printer is ready
check-printer-paper-near-end = The paper roll is nearly used up
    .action = Replace the paper roll soon
check-printer-paper-end = The printer is out of paper
    .action = Load a new paper roll and close the cover
check-printer-cover-open = The printer cover is open
    .action = Close the printer cover
check-printer-cutter-error = The paper cutter is jammed
    .action = Clear the paper jam at the cutter
check-printer-printer-error = The printer reports a fault
    .action = Switch the printer off and on; replace it if it happens again
check-printer-bad-uri = The printer setting is not valid
    .action = Correct the printer setting in kiosk.toml
check-printer-unreachable = The printer does not answer
    .action = Check the printer's power and cable (or network), then run the self-test again
check-printer-print-failed = Printing failed
    .action = Run the self-test again; report the detail if it happens again
check-printer-not-configured = No printer is set up
    .action = Set the printer in kiosk.toml (docs/deployment.md)

check-printer-test-page = Test page
check-printer-test-page-ok = The test page was printed
check-printer-test-page-not-ready = The test page was not printed: the printer is not ready
    .action = Fix the printer first
check-printer-test-page-paper-end = { check-printer-paper-end }
    .action = { check-printer-paper-end.action }
check-printer-test-page-cover-open = { check-printer-cover-open }
    .action = { check-printer-cover-open.action }
check-printer-test-page-cutter-error = { check-printer-cutter-error }
    .action = { check-printer-cutter-error.action }
check-printer-test-page-printer-error = { check-printer-printer-error }
    .action = { check-printer-printer-error.action }
check-printer-test-page-bad-uri = { check-printer-bad-uri }
    .action = { check-printer-bad-uri.action }
check-printer-test-page-unreachable = { check-printer-unreachable }
    .action = { check-printer-unreachable.action }
check-printer-test-page-print-failed = { check-printer-print-failed }
    .action = { check-printer-print-failed.action }

check-central = Central service
check-central-ok = The central service answers and accepts this kiosk
check-central-client-error = The kiosk could not prepare its connection
    .action = Report this fault to the service centre
check-central-tls-invalid = The central service's certificate is not trusted
    .action = Check the kiosk's clock and the service's certificate
check-central-timeout = The central service did not answer in time
    .action = Check the network link
check-central-unreachable = The central service cannot be reached
    .action = Check the network cable, the router and the central_url setting
check-central-bad-status = The central service answers with an error
    .action = The service is up but failing: tell the service centre
check-central-kiosk-unauthorized = The central service refuses this kiosk
    .action = Enroll the kiosk again and install its new token
check-central-degraded = The central service answers, but a signed-in request failed
    .action = Run the self-test again; tell the service centre if it happens again
check-central-not-configured = This kiosk is not enrolled
    .action = Enroll it: estation enroll --central URL --code CODE

check-clock = Clock
check-clock-ok = The clock agrees with the central service
check-clock-not-checked = The clock was not compared
    .action = Fix the central service check first
check-clock-no-date = The central service did not send its time
    .action = Compare the clock by hand
check-clock-skew = The clock differs from the central service's
    .action = Set the clock and turn on network time (NTP); signatures depend on it
check-clock-not-configured = The clock is compared with the central service's once the kiosk is enrolled
    .action = Enroll the kiosk first

check-disk = Disk space
check-disk-ok = There is enough free disk space
check-disk-disk-full = The disk is nearly full
    .action = Free disk space now: old logs, printed-job files
check-disk-disk-low = Free disk space is running low
    .action = Free disk space soon
check-disk-disk-error = The free space of the data folder cannot be read
    .action = Check that the data folder exists and the disk is mounted
check-disk-not-configured = No data folder is set up
    .action = Set data_dir in kiosk.toml

check-outbox = Outbox
check-outbox-ok = Everything residents sent has been delivered or is on its way
check-outbox-sender-failing = The outbox cannot send: its database fails
    .action = Check the disk and the data folder; nothing is sent until it recovers
check-outbox-backlog = Residents' requests are waiting to be sent
    .action = Check the network link; they are sent once it is back
check-outbox-rejected = The central service refused some requests
    .action = Tell the service centre: refused requests need a look
check-outbox-not-configured = The outbox appears once the kiosk has run; nothing is waiting
    .action = Nothing to do until the kiosk has served residents

check-config = Configuration
check-config-ok = A signed configuration is in force
check-config-no-bundle = No signed configuration is installed; built-in settings are used
    .action = Publish a configuration for this kiosk
check-config-expired = The signed configuration has expired
    .action = Publish a newer configuration
check-config-not-configured = The kiosk fetches its configuration after enrollment
    .action = Publish a configuration for this kiosk

check-display = Screen
check-display-ok = The touch grid and colour bars passed
check-display-not-tested = The screen was not tested
    .action = Run the screen test from maintenance mode
check-display-display-fault = The screen test failed
    .action = Replace or recalibrate the touchscreen
check-display-not-configured = The screen was not tested
    .action = Run the screen test from maintenance mode

check-voice = Voice guidance
check-voice-ok = Voice guidance works and has speakers
check-voice-no-engine = The speech engine is not installed; voice guidance is silent
    .action = Install the espeak-ng package
check-voice-no-voice = A language's voice is not installed
    .action = Install espeak-ng-data with its Mandarin, Cantonese and English voices
check-voice-engine-failed = The speech engine fails
    .action = Run estation speak --screen attract --out voice.wav to see why
check-voice-no-audio-device = Voice guidance works, but no speakers are connected
    .action = Connect speakers and run the self-test again; until then voice guidance is silent

check-devices = Device checks
check-devices-internal = The device checks stopped unexpectedly
    .action = Run the self-test again; report it if it happens again
