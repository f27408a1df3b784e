# Voice guidance: what each screen says aloud, written to be heard. A blind
# resident cannot see the screen: no "点击", "上方", "看到"; say "按". Each screen's
# message says what it is and what it asks; `.how` says how to answer by touch or
# key. Codes arrive already spelled one character at a time.

speech-attract = 24小时政务服务e站，全天候自助服务，可以打印证明、查询办件、提交申报。
    .how = 按屏幕任意位置或任意键开始。开始后每一步都有语音提示。
speech-language = 请选择语言：简体中文、繁体中文或英文。
    .how = 按一种语言的按钮；也可以用方向键移动，按确认键选择。
speech-services = 请选择要办理的事项。
    .how = 按事项名称办理；也可以用方向键逐项移动，按确认键选择。按“返回”回到上一步。
speech-services-loading = 正在获取服务列表，请稍候。
speech-insert-card = 请插入社会保障卡。
    .how = 将卡片芯片朝上、芯片一端向前，插入读卡器，插好后会自动继续。办理完成前请不要拔卡。按“返回”回到上一步。
speech-identify = 请插入社会保障卡，或者扫描手机上的身份码。
    .how = 1 号读卡器是一条窄缝，2 号扫码窗口是它旁边一块平的玻璃。有卡的，将卡片芯片朝上插入读卡器，插好后会自动继续。没带卡的，打开手机上电子社保卡或政务服务应用里的身份码，手机屏幕朝着扫码窗口，相距约十厘米，听到提示音就好。按“返回”回到上一步。
speech-checking-code = 正在核验身份码。
    .how = 请稍候，核验完成后会自动继续。
speech-goodbye-phone = 感谢使用。请带好您的手机和随身物品。
    .how = 按“完成”结束，本机将回到首页。
speech-pin-entry = 请输入社会保障卡密码，共 4 到 8 位数字。为保护您的密码，每输入一位只读作“星号”。
    .how = 用数字键逐位输入，按“删除”删掉一位，输完后按“确定”。
speech-reading-card = 正在读卡，请不要拔出卡片。
    .how = 请稍候，读完后会自动继续。
speech-choose-period = 请选择证明的时间范围，证明将列出该期间每月的缴费记录。
    .how = 按一个时间范围；也可以用方向键移动，按确认键选择。
speech-keypad-how = 用数字键输入，按“删除”删掉一位，按“清空”全部重输，输完后按“确定”。
speech-keypad-letters-how = 可以输入字母和数字。按“删除”删掉一位，按“清空”全部重输，输完后按“确定”。
speech-keypad-complete = 输入完整，可以按“确定”。
speech-progress-choice = 怎样查询办件进度？有两种方式。
    .how = 按其中一种方式；也可以用方向键移动，按确认键选择。
speech-progress-list = 请选择要查看的申请。
    .how = 按一个申请编号查看；也可以用方向键移动，按确认键选择。
speech-submission-form = 户籍地址变更申报。需要填写新地址所在街道、门牌号、房间号和手机号码。
    .how = 按一项进行填写，全部填好后按“下一步”。
speech-submission-district = 请选择新地址所在街道。如不在列表中，请在工作时间前往窗口办理。
    .how = 按一个街道；也可以用方向键移动，按确认键选择。
speech-submission-confirm = 请核对申报内容。
    .how = 确认无误请按“提交”；需要修改请按对应的项目。提交后，您的信息仅用于本次申报，本机不保留。
speech-issuing = 正在开具证明，正在向政务服务平台申请。
    .how = 请稍候，完成后会自动继续。
speech-fetching-origin-form = 正在查询原产地证书。
    .how = 请稍候，完成后会自动继续。
speech-fetching-progress = 正在查询办件进度。
    .how = 请稍候，完成后会自动继续。
speech-submitting = 正在提交，申报已保存在本机，正在发送。
    .how = 请稍候，完成后会自动继续。
speech-certificate-preview = 证明已开具，打印前请核对。
    .how = 核对无误后按“打印”；也可以按“发送到手机”，或按“首页”结束办理。
speech-origin-form-preview = 原产地证书已找到，打印前请核对，将使用 A 4 宽幅纸打印。
    .how = 核对无误后按“打印”，或按“首页”结束办理。
speech-progress-result = 办件进度已查到。
    .how = 需要留存请按“打印”，不需要请按“完成”。
speech-submission-receipt = 申报回执。
    .how = 请按“打印”留存回执，或按“完成”结束办理。
speech-origin-form-unsupported = 本机无法打印原产地证书。
    .how = 按“首页”结束办理。
speech-phone-link = 可以用手机查看这份证明：这一步需要用手机相机或微信扫一扫，扫描本机显示的二维码；如需帮助，可请他人协助。链接 10 分钟内有效，只能查看这一份证明。
    .how = 按“返回”回到证明。
speech-printing = 正在打印，打印完成前请不要离开。
    .how = 请稍候，打印完成后会提示您取纸。
speech-printing-progress = 已完成百分之 { $percent }。
speech-take-paper = 证明已从出纸口送出，请取走。
    .how = 取走后按“我已取走”。
speech-rating = 请为本次服务评价：满意、一般或不满意。
    .how = 按一个评价，或按“不评价”跳过；也可以用方向键移动，按确认键选择。
speech-rating-reasons = 哪里可以做得更好？可以多选，也可以直接发送。
    .how = 按一项选择或取消，选好后按“发送评价”。
speech-goodbye = 感谢使用。请取回您的社会保障卡和随身物品。
    .how = 按“完成”结束，本机将回到首页。
speech-error = 出现了问题。
    .how = 按“重试”再试一次，或按“首页”结束办理。
speech-maintenance-login = 技术人员登录。如有服务卡请先插卡，然后输入密码。
    .how = 用数字键输入密码，每输入一位只读作“星号”，输完后按“确定”。
speech-checking-technician = 正在核验技术人员身份。
    .how = 请稍候。
speech-maintenance-menu = 维护模式。可以进行设备自检或屏幕检测。
    .how = 按“设备自检”“屏幕检测”或“退出维护模式”。
speech-running-selftest = 正在自检，检查各项设备，约需数秒。
    .how = 请稍候，完成后会读出自检结果。
speech-selftest-report = 自检报告，结果已随下一次心跳上报。
    .how = 按“再次自检”重新检查，或按“返回”。
speech-selftest-counts = { $pass } 项正常，{ $warn } 项注意，{ $fail } 项故障。
speech-display-test = 屏幕检测：由技术人员逐一检查色条和每个格子，需要目视完成。
    .how = 检测结束后按“正常”或“有问题”。

speech-idle = 您还在吗？{ $seconds } 秒后将返回首页并清除您的信息。
    .how = 如需继续，请按“我需要更多时间”或任意键。
speech-degraded = 注意：部分服务暂不可用。

# Pieces the screens' speech is built from.
speech-list-count = 共 { $count } 项。
speech-list-item = 第 { $number } 项，{ $item }。
speech-list-selected = { $item }，已选
speech-list-unavailable = { $item }，暂不可用
speech-choice-with-hint = { $choice }，{ $hint }
speech-entered = 已输入：{ $value }。
speech-nothing-entered = 尚未输入。
# PIN digits are never spoken: each is "星号" (asterisk).
speech-pin-star = 星号
speech-pin-entered = 已输入 { $count } 位：{ $stars }。
speech-field = { $label }：{ $value }。
speech-field-empty = { $label }：未填写。
speech-document-title = 这是{ $title }。
# Only the English voice says these (it cannot read Chinese); every locale has them.
speech-document-in-chinese = 证明内容为中文。
speech-name-in-chinese = 中文名称
