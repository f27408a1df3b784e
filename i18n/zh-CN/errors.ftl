# Messages for things that go wrong. Each says what happened; `.action` says what to do.

error-generic = 出现了问题
    .action = 请重试；如果问题仍然存在，请在工作时间前往大厅窗口办理。

card-error-reader = 读卡器暂不可用
    .action = 请稍后再试，或在工作时间前往大厅窗口办理。
card-error-no-card = 没有检测到卡片
    .action = 请将社会保障卡芯片朝上插入读卡器。
card-error-removed = 卡片在读取时被拔出
    .action = 请重新插入卡片，并在读取完成前不要拔出。
card-error-unreadable = 无法读取这张卡片
    .action = 请确认卡片插入方向正确（芯片朝上），擦拭芯片后重试。
card-error-unknown = 无法识别这张卡片
    .action = 请使用社会保障卡。
card-error-busy = 读卡器正忙
    .action = 请稍等几秒后重试。
card-error-pin-required = 这张卡片需要输入密码
    .action = 请输入社会保障卡密码。
card-error-wrong-pin = 密码不正确
    .action = 请重新输入密码。多次输错将锁定卡片。
card-error-pin-blocked = 卡片密码已锁定
    .action = 请携带身份证到社保窗口或银行网点解锁。

central-error-unreachable = 暂时无法连接政务服务平台
    .action = 请稍后再试。需要联网的服务暂停，其他服务仍可使用。
central-error-resident-not-found = 没有查到您的信息
    .action = 请确认使用的是本人社会保障卡，或在工作时间前往窗口咨询。
central-error-service-closed = 该服务目前不开放
    .action = 请在开放时间内办理，或选择其他服务。
central-error-failed = 政务服务平台暂时无法办理
    .action = 请稍后再试；如果问题仍然存在，请在工作时间前往大厅窗口办理。

print-error-paper-out = 打印机缺纸，无法打印
    .action = 您的证明已开具，可凭验证码在其他自助终端或窗口打印，或在手机上查看。
print-error-cover-open = 打印机盖未关闭
    .action = 请联系工作人员，或稍后在其他自助终端打印。
print-error-offline = 打印机暂不可用
    .action = 您的证明已开具，可凭验证码在其他自助终端或窗口打印。
print-error-failed = 打印没有完成
    .action = 请不要带走不完整的纸张。您的证明已开具，可凭验证码重新打印。
print-error-jammed = 打印机故障（卡纸或切刀异常）
    .action = 请不要拉扯纸张。您的证明已开具，可凭验证码在其他自助终端或窗口打印。
print-error-interrupted = 打印中断
    .action = 请不要带走不完整的纸张。您的证明已开具，可凭验证码重新打印。
print-error-needs-staff = 打印机需要工作人员检查
    .action = 您的证明已开具，可凭验证码在其他自助终端或窗口打印。
