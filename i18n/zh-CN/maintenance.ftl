# Technicians' maintenance mode.

maintenance-login-title = 技术人员登录
maintenance-login-hint = 如有服务卡请先插卡，然后输入密码
maintenance-error-denied = 密码不正确，还可尝试 { $tries } 次
maintenance-error-locked = 错误次数过多，已暂时锁定，请稍后再试
maintenance-error-card = 无法读取服务卡，请重新插卡
checking-technician-title = 正在核验
checking-technician-hint = 请稍候
maintenance-title = 维护模式
maintenance-hello = 技术人员：{ $name }
maintenance-run-selftest = 设备自检
maintenance-run-selftest-hint = 读卡器、打印机、网络、时钟、磁盘、待发送队列
maintenance-display-test = 屏幕检测
maintenance-display-test-hint = 色条与触摸网格
maintenance-exit = 退出维护模式
running-selftest-title = 正在自检
running-selftest-hint = 检查各项设备，约需数秒
selftest-title = 自检报告
selftest-hint = 结果已随下一次心跳上报
selftest-pass = 正常
selftest-warn = 注意
selftest-fail = 故障
selftest-again = 再次自检
display-test-title = 屏幕检测
display-test-hint = 检查色条颜色，逐一点击每个格子
display-test-fail = 有问题
display-test-pass = 正常（还剩 { $left } 格）
